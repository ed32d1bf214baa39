import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CheckpointError } from '../src/io/errors.js';
import { NUMPY_CONSTRUCTORS } from '../src/io/pickle-numpy.js';
import { BUILTIN_CONSTRUCTORS, PyGlobal, PyObject, toPlainData, unpickle } from '../src/io/pickle.js';
import { LoadedTensor } from '../src/io/storage.js';
import { flattenTensors } from '../src/io/tensor-tree.js';
import { PickleBuilder } from './fixtures/io/build-pickle.js';

const FIXTURES = new URL('./fixtures/io/', import.meta.url);

function load(name: string, constructors = BUILTIN_CONSTRUCTORS): unknown {
  return unpickle(readFileSync(new URL(name, FIXTURES)), { file: name, constructors }).value;
}

test('the same data pickled with protocols 0 to 5 reads back identically', () => {
  const bytes = (values: number[]) => Uint8Array.from(values);
  const expected = new Map<unknown, unknown>([
    ['none', null],
    ['true', true],
    ['false', false],
    ['small', 7],
    ['negative', -300],
    ['int32', 2 ** 31 - 1],
    ['big', 2n ** 62n],
    ['huge', -(2n ** 100n)],
    ['float', 0.1],
    ['text', 'héllo ✓'],
    ['bytes', bytes([0, 1, 255])],
    ['bytearray', bytes([97, 98])],
    ['tuple', [1, 'two', 3]],
    ['list', [[], [], new Map()]],
    ['set', new Set([3])],
    ['frozenset', new Set(['x'])],
    ['ordered', new Map([['b', 1], ['a', 2]])],
    ['int_keys', new Map([[1, 'one'], [2, 'two']])],
    ['shared', [[1, 2], [1, 2]]],
  ]);
  for (let protocol = 0; protocol <= 5; protocol++) {
    const value = load(`plain-p${protocol}.pkl`) as Map<unknown, unknown>;
    assert.deepEqual([...value.keys()], [...expected.keys()], `protocol ${protocol} keys`);
    for (const [key, want] of expected) {
      const got = value.get(key);
      if (want instanceof Uint8Array) assert.deepEqual([...(got as Uint8Array)], [...want], `protocol ${protocol} ${String(key)}`);
      else assert.deepEqual(got, want, `protocol ${protocol} ${String(key)}`);
    }
    // The memo makes both entries the very same list, as in Python.
    const shared = value.get('shared') as unknown[];
    assert.equal(shared[0], shared[1]);
  }
});

test('empty bytes (Python 3 writes __builtin__.bytes() under protocols 0-2) read as empty byte arrays', () => {
  // pickle.dumps([b''], 2): PROTO 2, EMPTY_LIST, MARK, GLOBAL '__builtin__ bytes', EMPTY_TUPLE, REDUCE, APPENDS, STOP.
  const pickle = new PickleBuilder().proto().raw(0x5d).mark().global('__builtin__', 'bytes').emptyTuple().reduce().raw(0x65).stop();
  const value = unpickle(pickle.bytes(), { file: 'empty.pkl', constructors: BUILTIN_CONSTRUCTORS }).value;
  assert.deepEqual(value, [new Uint8Array(0)]);
});

test('NumPy scalars and arrays (C and Fortran order) are rebuilt as data', () => {
  for (const protocol of [2, 4]) {
    const value = load(`numpy-p${protocol}.pkl`, { ...BUILTIN_CONSTRUCTORS, ...NUMPY_CONSTRUCTORS }) as Map<string, unknown>;
    assert.equal(value.get('f8'), 0.1);
    assert.equal(value.get('f4'), 1.5);
    assert.equal(value.get('i8'), -(2 ** 40));
    assert.equal(value.get('u1'), 200);
    assert.equal(value.get('b1'), true);
    const array = value.get('array') as LoadedTensor;
    assert.ok(array instanceof LoadedTensor);
    assert.deepEqual(array.shape, [2, 3]);
    assert.deepEqual([...array.data], [0, 1, 2, 3, 4, 5]);
    const fortran = value.get('fortran') as LoadedTensor;
    assert.deepEqual(fortran.shape, [2, 3]);
    assert.deepEqual([...fortran.data], [0n, 1n, 2n, 3n, 4n, 5n]);
  }
});

test('calling an unknown global such as os.system is refused, naming the global and the file', () => {
  const evil = new PickleBuilder().proto().global('os', 'system').str('echo owned').raw(0x85 /* TUPLE1 */).reduce().stop();
  assert.throws(
    () => unpickle(evil.bytes(), { file: 'evil.pkl', constructors: BUILTIN_CONSTRUCTORS }),
    (err: unknown) =>
      err instanceof CheckpointError && err.file === 'evil.pkl' && /^evil\.pkl: /.test(err.message) && err.message.includes('os.system'),
  );
});

test('a merely referenced unknown global stays an inert placeholder', () => {
  const reference = new PickleBuilder().proto().global('os', 'system').stop();
  const value = unpickle(reference.bytes(), { file: 'ref.pkl', constructors: BUILTIN_CONSTRUCTORS }).value;
  assert.ok(value instanceof PyGlobal);
  assert.equal(value.qualifiedName, 'os.system');
});

test('NEWOBJ of an unknown class makes an inert instance that keeps its BUILD state and dict items', () => {
  const pickle = new PickleBuilder().proto().global('dnnlib.util', 'EasyDict').emptyTuple().newobj();
  pickle.mark().str('z_dim').int(64).setItems();
  pickle.global('__torch__.model', 'Net').emptyTuple().newobj().emptyDict().mark().str('training').bool(false).setItems().build();
  pickle.raw(0x86 /* TUPLE2 */).stop();
  const [easy, net] = unpickle(pickle.bytes(), { file: 'obj.pkl', constructors: BUILTIN_CONSTRUCTORS }).value as [PyObject, PyObject];
  assert.equal(easy.className, 'dnnlib.util.EasyDict');
  assert.deepEqual(toPlainData(easy), { z_dim: 64 });
  assert.equal(net.className, '__torch__.model.Net');
  assert.deepEqual(net.state, new Map([['training', false]]));
});

test('a truncated pickle is an error that names the file', () => {
  const whole = readFileSync(new URL('plain-p4.pkl', FIXTURES));
  assert.throws(
    () => unpickle(whole.subarray(0, whole.length - 20), { file: 'cut.pkl', constructors: BUILTIN_CONSTRUCTORS }),
    /^CheckpointError: cut\.pkl: pickle: .*truncated/,
  );
});

test('unknown opcodes, out-of-band buffers and persistent ids without a loader are errors', () => {
  const run = (bytes: number[]) => () => unpickle(Uint8Array.from(bytes), { file: 'x.pkl', constructors: BUILTIN_CONSTRUCTORS });
  assert.throws(run([0x80, 2, 0xff]), /x\.pkl: pickle: unknown opcode 0xff/);
  assert.throws(run([0x80, 5, 0x97, 0x2e]), /out-of-band buffers/);
  assert.throws(run([0x80, 2, 0x4e, 0x51, 0x2e]), /persistent id/);
});

test('rarely written opcodes: NEWOBJ_EX, DUP, POP, POP_MARK, LONG4, BINUNICODE8, BINBYTES8, PERSID, INST, OBJ', () => {
  const u64 = (n: number) => [n, 0, 0, 0, 0, 0, 0, 0];
  const pickle = new PickleBuilder().proto(4).mark();
  pickle.global('some.module', 'Thing').emptyTuple().emptyDict().raw(0x92); // NEWOBJ_EX → inert instance
  pickle.raw(0x4b, 5, 0x32, 0x86); // BININT1 5, DUP, TUPLE2 → [5, 5]
  pickle.raw(0x4b, 1, 0x4b, 2, 0x30); // 1, 2, POP → 1
  pickle.raw(0x4b, 3, 0x28, 0x4b, 9, 0x4b, 9, 0x31); // 3, MARK 9 9 POP_MARK → 3
  pickle.raw(0x8b, 2, 0, 0, 0, 0x00, 0x80); // LONG4 of two bytes: -32768
  pickle.raw(0x8d, ...u64(2), 0x68, 0x69); // BINUNICODE8 'hi'
  pickle.raw(0x8e, ...u64(1), 0x07); // BINBYTES8 b'\x07'
  pickle.raw(0x50, ...new TextEncoder().encode('storage-7\n')); // PERSID
  pickle.mark().raw(0x69, ...new TextEncoder().encode('other.module\nOld\n')); // MARK INST → inert instance
  pickle.mark().global('other.module', 'Older').raw(0x4b, 1, 0x6f); // MARK cls 1 OBJ → inert instance with args [1]
  pickle.tuple().stop();
  const value = unpickle(pickle.bytes(), {
    file: 'rare.pkl',
    constructors: BUILTIN_CONSTRUCTORS,
    persistentLoad: (pid) => `loaded ${String(pid)}`,
  }).value as unknown[];
  assert.ok(value[0] instanceof PyObject && value[0].className === 'some.module.Thing');
  assert.deepEqual(value.slice(1, 8), [[5, 5], 1, 3, -32768, 'hi', Uint8Array.of(7), 'loaded storage-7']);
  assert.ok(value[8] instanceof PyObject && value[8].className === 'other.module.Old');
  assert.ok(value[9] instanceof PyObject && value[9].className === 'other.module.Older');
  assert.deepEqual(value[9].args, [1]);
});

// Hostile pickles from the fuzzing pass of issue 11.

const hostile = (bytes: ArrayLike<number>, file = 'hostile.pkl') => () =>
  unpickle(Uint8Array.from(bytes), { file, constructors: BUILTIN_CONSTRUCTORS }).value;

test('every length field is checked: negative or oversized lengths are one-line errors, never reads outside the data', () => {
  const u64 = (n: bigint) => [...new Uint8Array(new BigUint64Array([n]).buffer)];
  const cases: [number[], RegExp][] = [
    // BINSTRING of length -5: the 8-byte pickle that walked backwards until V8 aborted.
    [[0x80, 2, 0x54, 0xfb, 0xff, 0xff, 0xff, 0x2e], /negative BINSTRING length -5/],
    [[0x80, 2, 0x8b, 0xfb, 0xff, 0xff, 0xff, 0x2e], /negative LONG4 length -5/],
    [[0x80, 2, 0x58, 0xff, 0xff, 0xff, 0xff, 0x2e], /truncated/], // BINUNICODE of 4 GiB
    [[0x80, 2, 0x42, 0x00, 0x00, 0x00, 0x80, 0x2e], /truncated/], // BINBYTES of 2 GiB
    [[0x80, 4, 0x8e, ...u64(2n ** 62n), 0x2e], /length 4611686018427387904 is too large/], // BINBYTES8
    [[0x80, 4, 0x8d, ...u64(2n ** 40n), 0x2e], /truncated/], // BINUNICODE8
    [[0x80, 2, 0x43, 200, 0x2e], /truncated/], // SHORT_BINBYTES
  ];
  for (const [bytes, problem] of cases) {
    assert.throws(
      hostile(bytes),
      (err: unknown) => err instanceof CheckpointError && err.message.startsWith('hostile.pkl: pickle: ') && problem.test(err.message) && !err.message.includes('\n'),
      problem.source,
    );
  }
});

test('LONG4 integers decode exactly, negative ones included (ganvec info checks that a 1 MiB one is fast)', () => {
  // PROTO 2, LONG4 <int32 length> <raw>, STOP.
  const long4 = (raw: number[] | Uint8Array) => {
    const bytes = new Uint8Array(8 + raw.length);
    bytes.set([0x80, 2, 0x8b]);
    new DataView(bytes.buffer).setInt32(3, raw.length, true);
    bytes.set(raw, 7);
    bytes[7 + raw.length] = 0x2e;
    return bytes;
  };
  assert.equal(hostile(long4([0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x00]))(), 2n ** 63n);
  assert.equal(hostile(long4([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0xff]))(), -(2n ** 63n) - 1n);
  assert.equal(hostile(long4([]))(), 0);
  assert.equal(hostile(long4([0x01, 0x02, 0x03]))(), 0x030201);
  const raw = new Uint8Array(4097).fill(0xff);
  raw[4096] = 0x7f;
  assert.equal(hostile(long4(raw))(), (1n << BigInt(8 * 4096 + 7)) - 1n);
});

test('memo-shared containers are walked once: toPlainData keeps the sharing, flattenTensors names each object once', () => {
  const leaf = new LoadedTensor(Float32Array.of(1), [1], 'float32');
  let shared: unknown[] = [leaf];
  for (let level = 0; level < 3; level++) shared = [shared, shared];
  const root = new Map<unknown, unknown>([['x', shared], ['t', leaf], ['u', leaf]]);
  // A tensor stored under two keys keeps both names; a container reached twice is walked the first time.
  assert.deepEqual([...flattenTensors(root).keys()], ['x.0.0.0.0', 't', 'u']);
  const plain = toPlainData(root) as { x: unknown[][] };
  assert.equal(plain.x[0], plain.x[1]);
  assert.equal(plain.x[0]![0], plain.x[1]![1]);
});

test('a cycle is not followed: it becomes a marker in plain data and contributes no names', () => {
  const cycle: unknown[] = [];
  cycle.push(cycle, new LoadedTensor(Float32Array.of(2), [1], 'float32'));
  assert.deepEqual(toPlainData(new Map([['c', cycle]])), { c: ['<recursive reference>', cycle[1]] });
  assert.deepEqual([...flattenTensors(new Map([['c', cycle]])).keys()], ['c.1']);
});

test('data nested 100,000 levels deep is walked without exhausting the call stack', () => {
  // {'deep': ((((None,),),)…)}: PROTO, EMPTY_DICT, 'deep', NONE, TUPLE1 × 100,000, SETITEM, STOP.
  const depth = 100_000;
  const head = new PickleBuilder().proto().emptyDict().str('deep').none().bytes();
  const bytes = new Uint8Array(head.length + depth + 2);
  bytes.set(head);
  bytes.fill(0x85, head.length, head.length + depth);
  bytes.set([0x73, 0x2e], head.length + depth);
  const root = unpickle(bytes, { file: 'deep.pkl', constructors: BUILTIN_CONSTRUCTORS }).value;
  assert.equal(flattenTensors(root).size, 0);
  let plain = (toPlainData(root) as { deep: unknown }).deep;
  let levels = 0;
  while (Array.isArray(plain)) {
    plain = plain[0];
    levels++;
  }
  assert.equal(levels, depth);
});

test('memory is bounded per input byte: a megabyte of EMPTY_DICT is refused instead of taking 200 bytes each', () => {
  const bytes = new Uint8Array(2 ** 20 + 3).fill(0x7d);
  bytes.set([0x80, 2], 0);
  bytes[bytes.length - 1] = 0x2e;
  assert.throws(
    hostile(bytes, 'dicts.pkl'),
    (err: unknown) => err instanceof CheckpointError && /^dicts\.pkl: reading it would take more than \d+ MiB of memory/.test(err.message),
  );
});

test('control characters from the file are escaped in messages (a GLOBAL name cannot retitle the terminal)', () => {
  const evil = new PickleBuilder().proto().global('os\x1b]0;owned\x07', 'sys\u009btem').str('x').raw(0x85).reduce().stop();
  assert.throws(
    () => unpickle(evil.bytes(), { file: 'title.pkl', constructors: BUILTIN_CONSTRUCTORS }),
    (err: unknown) => err instanceof Error && err.message.includes('it calls os\\x1b]0;owned\\x07.sys\\x9btem,') && !/[\x00-\x1f\x7f-\x9f]/.test(err.message),
  );
});
