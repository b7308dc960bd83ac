// The package's one validation module: the message shape every option and argument error has,
// the error classes, and the option reader. Model, layer and op tests rely on this shape.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkChoice,
  checkInt,
  checkIntList,
  checkNumber,
  checkOptions,
  invalidParameterError,
  OptionReader,
  readOptions,
  show,
} from '../src/validate.js';
import { torch, createModel, nn } from '../src/index.js';
import { assertThrows } from './helpers.js';

describe('message shape: <where>: <name> must be <expected>, got <actual>', () => {
  test('invalidParameterError names the function, the option, what was expected and what came', () => {
    const e = invalidParameterError('Unet', 'encoderDepth', 'an integer from 3 to 5', 7);
    assert.ok(e instanceof TypeError);
    assert.equal(e.message, 'Unet: encoderDepth must be an integer from 3 to 5, got 7');
    assert.ok(invalidParameterError('f', 'x', 'y', 1, RangeError) instanceof RangeError);
  });

  test('show: strings quoted, arrays listed, objects by class, long strings cut', () => {
    assert.equal(show("a'b"), "'a\\'b'");
    assert.equal(show([1, 'x', null]), "[1, 'x', null]");
    assert.equal(show({}), 'an object');
    assert.equal(show(new Map()), 'a Map');
    assert.equal(show(undefined), 'undefined');
    assert.equal(show(Number.NaN), 'NaN');
    assert.equal(show(new Float32Array(3)), 'a Float32Array');
    assert.equal(
      show(() => 0),
      'a function',
    );
    assert.equal(show('x'.repeat(200)).length, 82);
    assert.match(show(Array.from({ length: 40 }, (_, i) => i)), /\[0, 1, .*15, \.\.\. \(40 in all\)\]/);
  });

  test('numbers: TypeError for a non-number, RangeError for a number out of range (2.5 for an integer, NaN)', () => {
    assertThrows(() => checkInt('f', 'n', '3', { min: 1 }), TypeError, /^f: n must be a positive integer, got '3'$/);
    assertThrows(() => checkInt('f', 'n', 2.5, { min: 1 }), RangeError, /^f: n must be a positive integer, got 2\.5$/);
    assertThrows(() => checkInt('f', 'n', 6, { min: 3, max: 5 }), RangeError, /^f: n must be an integer from 3 to 5, got 6$/);
    assertThrows(() => checkNumber('f', 'p', Number.NaN, { min: 0, max: 1 }), RangeError, /^f: p must be a number from 0 to 1, got NaN$/);
    assertThrows(
      () => checkNumber('f', 'b', 1, { min: 0, max: 1, exclusive: 'max' }),
      RangeError,
      /^f: b must be a number in \[0, 1\), got 1$/,
    );
    assertThrows(() => checkNumber('f', 'lr', -1, { min: 0 }), RangeError, /^f: lr must be a non-negative number, got -1$/);
    assert.equal(checkInt('f', 'n', 4, { min: 3, max: 5 }), 4);
  });

  test('choices: a name outside its set is a TypeError, a number outside its set a RangeError', () => {
    assertThrows(
      () => checkChoice('F.pad', 'mode', 'mirror', ['constant', 'reflect', 'replicate']),
      TypeError,
      /^F\.pad: mode must be one of 'constant', 'reflect', 'replicate', got 'mirror'$/,
    );
    assertThrows(
      () => checkChoice('DeepLabV3', 'encoderOutputStride', 32, [8, 16]),
      RangeError,
      /^DeepLabV3: encoderOutputStride must be 8 or 16, got 32$/,
    );
    assertThrows(() => checkChoice('x', 'y', '8', [8, 16]), TypeError, /must be 8 or 16, got '8'/);
  });

  test('integer lists: wrong kind TypeError, wrong length or value RangeError, a reason in the message', () => {
    assertThrows(() => checkIntList('f', 'c', 'abc', { min: 1 }), TypeError, /^f: c must be an array of positive integers, got 'abc'$/);
    assertThrows(
      () => checkIntList('f', 'c', [1, 2], { min: 1, length: 3, why: 'one per block' }),
      RangeError,
      /^f: c must be an array of 3 positive integers \(one per block\), got \[1, 2\]$/,
    );
    assertThrows(() => checkIntList('f', 'c', [], { min: 1 }), RangeError, /got \[\]/);
    assert.deepEqual(checkIntList('f', 'k', 3, { min: 1, length: 2, scalar: true }), [3, 3]);
  });

  test('unknown keys: TypeError listing the known keys, with a hint for Python spellings and typos', () => {
    assertThrows(
      () => checkOptions('Unet', { encoder_name: 'x' }, ['encoderName', 'classes']),
      TypeError,
      /^Unet: unknown option 'encoder_name' \(known: encoderName, classes\); did you mean 'encoderName'\?$/,
    );
    assertThrows(() => checkOptions('torch.sum', { keepDim: true }, ['dim', 'keepdim']), TypeError, /did you mean 'keepdim'\?/);
    assertThrows(() => checkOptions('f', { a: 1, zz: 2 }, ['b']), TypeError, /unknown options 'a', 'zz' \(known: b\)$/);
    assertThrows(() => checkOptions('f', [1], ['b']), TypeError, /^f: options must be an object, got \[1\]$/);
    assert.deepEqual(checkOptions('f', { b: 1, c: undefined }, ['b']), { b: 1, c: undefined }, 'undefined values count as absent');
  });

  test('OptionReader: defaults, nested objects named by path', () => {
    const o = readOptions('Model', { depth: 4, aux: { dropout: 2 } }, ['depth', 'aux', 'mode']);
    assert.equal(o.int('depth', 5, { min: 3, max: 5 }), 4);
    assert.equal(o.choice('mode', ['a', 'b'], 'a'), 'a');
    const aux = o.nested('aux', ['dropout'])!;
    assertThrows(() => aux.probability('dropout', 0), RangeError, /^Model: aux\.dropout must be a number from 0 to 1, got 2$/);
    assertThrows(
      () => new OptionReader('Model', { aux: { x: 1 } }, ['aux']).nested('aux', ['dropout']),
      TypeError,
      /^Model: aux: unknown option 'x'/,
    );
    assertThrows(() => readOptions('Model', {}, ['depth']).int('depth'), TypeError, /depth must be a positive integer, got undefined/);
  });
});

describe('the same shape from every layer', () => {
  test('models, layers, ops and optimizers share it', () => {
    assertThrows(() => createModel('unet', { encoderDepth: 7 }), RangeError, /^Unet: encoderDepth must be an integer from 3 to 5, got 7$/);
    assertThrows(
      () => createModel('fpn', { decoderMergePolicy: 'mul' }),
      TypeError,
      /^FPN: decoderMergePolicy must be 'add' or 'cat', got 'mul'$/,
    );
    assertThrows(
      () => new nn.Conv2d(3, 4, 3, { paddingMode: 'mirror' as never }),
      TypeError,
      /^Conv2d: paddingMode must be .*, got 'mirror'$/,
    );
    assertThrows(
      () => torch.tidy(() => torch.ones([2]).sum({ keepDim: true } as never)),
      TypeError,
      /^torch\.sum: unknown option 'keepDim'/,
    );
  });
});
