import { CheckpointError } from './errors.js';
import { ReadBudget } from './read-budget.js';
import { LoadedTensor } from './storage.js';

/**
 * A safe reader for Python pickles (protocols 0–5). Pickles are programs for a small stack machine whose
 * GLOBAL/REDUCE opcodes import and call arbitrary Python callables; loading a model file must never do
 * that. This reader builds plain data instead:
 *
 * - None/bool/int/float/str/bytes become null/boolean/number (bigint when not a safe integer)/string/
 *   Uint8Array; tuples and lists become arrays, dicts become Maps (keys keep their order), sets become Sets.
 * - GLOBAL resolves a name against an allowlist of constructors implemented in TypeScript (passed by the
 *   caller). Any other name becomes an inert `PyGlobal`; instantiating it (NEWOBJ/OBJ/INST) gives an inert
 *   `PyObject` that keeps its BUILD state as data, while calling it (REDUCE) is an error naming it.
 * - Every length is checked against the data, and what the machine builds is charged to a memory budget
 *   proportional to the file's size (see ReadBudget), so a small hostile pickle cannot exhaust memory.
 */

/** A global name the reader does not know: recorded, never imported. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}

  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/**
 * An instance of a class the reader does not know (a TorchScript module, an EasyDict, a pickled
 * nn.Module…): its constructor arguments, its BUILD state, and for dict/list subclasses the items
 * that SETITEM(S)/APPEND(S) added.
 */
export class PyObject {
  state: unknown = undefined;
  readonly dictItems = new Map<unknown, unknown>();
  readonly listItems: unknown[] = [];

  constructor(
    readonly className: string,
    readonly args: unknown[] = [],
  ) {}
}

/** An allowlisted callable: what a GLOBAL resolves to when its name is known. */
export class PyCallable {
  constructor(
    readonly qualifiedName: string,
    readonly call: (args: unknown[]) => unknown,
  ) {}
}

/** Objects made by allowlisted constructors that accept a BUILD (`__setstate__`) implement this. */
export const SET_STATE = Symbol('setState');
export interface Buildable {
  [SET_STATE](state: unknown): void;
}

export type Constructors = Record<string, (args: unknown[]) => unknown>;

export interface UnpickleOptions {
  /** The file the pickle came from, for error messages. */
  file: string;
  /** Allowlisted callables by qualified name (`module.name`). */
  constructors: Constructors;
  /** Resolves persistent ids (PERSID/BINPERSID); without it they are an error. */
  persistentLoad?: (pid: unknown) => unknown;
  /** The budget of the file this pickle is part of; by default one for the pickle's bytes alone. */
  budget?: ReadBudget;
}

/** Constructors of plain Python data that any pickle may use. */
export const BUILTIN_CONSTRUCTORS: Constructors = {
  'collections.OrderedDict': (args) => new Map(args.length > 0 ? pairs(args[0]) : []),
  'builtins.set': (args) => new Set(args.length > 0 ? iterable(args[0]) : []),
  'builtins.frozenset': (args) => new Set(args.length > 0 ? iterable(args[0]) : []),
  'builtins.bytearray': (args) => bytesFrom(args),
  'builtins.bytes': (args) => bytesFrom(args),
  // Protocol 2 has no bytes opcode: Python 3 writes bytes as _codecs.encode(latin-1 text, 'latin1').
  '_codecs.encode': (args) => {
    if (typeof args[0] !== 'string') throw new TypeError('_codecs.encode expects a string');
    return latin1Bytes(args[0]);
  },
  // copyreg._reconstructor(cls, base, state) is how protocols 0/1 make instances of ordinary classes.
  'copyreg._reconstructor': (args) => instanceOf(args[0], []),
  'copy_reg._reconstructor': (args) => instanceOf(args[0], []),
};

// Python 2 pickles name the builtins module __builtin__.
for (const name of ['set', 'frozenset', 'bytearray', 'bytes']) {
  BUILTIN_CONSTRUCTORS[`__builtin__.${name}`] = BUILTIN_CONSTRUCTORS[`builtins.${name}`];
}

function iterable(value: unknown): unknown[] {
  if (Array.isArray(value)) return value;
  if (value instanceof Set) return [...value];
  if (value instanceof Map) return [...value.keys()];
  throw new TypeError('expected a list, tuple or set');
}

function pairs(value: unknown): [unknown, unknown][] {
  if (value instanceof Map) return [...value.entries()];
  return iterable(value).map((pair) => {
    if (!Array.isArray(pair) || pair.length !== 2) throw new TypeError('expected (key, value) pairs');
    return [pair[0], pair[1]];
  });
}

function bytesFrom(args: unknown[]): Uint8Array {
  if (args.length === 0) return new Uint8Array(0);
  if (args[0] instanceof Uint8Array) return new Uint8Array(args[0]);
  if (typeof args[0] === 'string') return latin1Bytes(args[0]);
  throw new TypeError('expected bytes or a latin-1 string');
}

function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

function instanceOf(cls: unknown, args: unknown[]): PyObject {
  if (cls instanceof PyGlobal) return new PyObject(cls.qualifiedName, args);
  if (cls instanceof PyCallable) return new PyObject(cls.qualifiedName, args);
  throw new TypeError('expected a class');
}

/** Parses one pickle starting at `start`; returns its value and the offset just past its STOP. */
export function unpickle(
  bytes: Uint8Array,
  options: UnpickleOptions,
  start = 0,
): { value: unknown; end: number } {
  return new Unpickler(bytes, options, start).run();
}

/**
 * Converts an unpickled tree to JSON-like data (objects, arrays, numbers, strings), e.g. for init kwargs.
 * Each object is converted once, so data the pickle's memo shares stays shared (a list of two references
 * to one list, thirty levels deep, is 31 conversions, not 2^30); a reference back to an object being
 * converted becomes '<recursive reference>'. The walk keeps its own stack: nesting depth is unlimited.
 */
export function toPlainData(root: unknown): unknown {
  const converted = new Map<object, unknown>();
  const open = new Set<object>();
  const frames: { value: object; fill: Fill }[] = [];
  const visit = (value: unknown): unknown => {
    if (value === null || typeof value !== 'object') return value;
    if (open.has(value)) return '<recursive reference>';
    if (converted.has(value)) return converted.get(value);
    const { out, fill } = plainShell(value);
    converted.set(value, out);
    if (fill !== undefined) {
      open.add(value);
      frames.push({ value, fill });
    }
    return out;
  };
  const result = visit(root);
  while (frames.length > 0) {
    const { value, fill } = frames[frames.length - 1]!;
    const next = fill.entries.next();
    if (next.done) {
      open.delete(value);
      frames.pop();
    } else {
      fill.put(next.value[0], visit(next.value[1]));
    }
  }
  return result;
}

/** The entries of an input object still to convert, and how to store each in its output container. */
interface Fill {
  entries: Iterator<[unknown, unknown]>;
  put: (key: unknown, item: unknown) => void;
}

/** The output for one object of an unpickled tree: a container to fill, or the value itself. */
function plainShell(value: object): { out: unknown; fill?: Fill } {
  if (value instanceof PyObject) {
    // dict subclasses such as dnnlib.util.EasyDict are their items; other objects keep class and state.
    if (value.dictItems.size > 0 || value.state === undefined) return plainShell(value.dictItems);
    const out: Record<string, unknown> = { __class__: value.className };
    return { out, fill: { entries: new Map([['state', value.state]]).entries(), put: (key, item) => (out[key as string] = item) } };
  }
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    return { out, fill: { entries: value.entries(), put: (key, item) => setEntry(out, keyText(key), item) } };
  }
  if (Array.isArray(value) || value instanceof Set) {
    const out: unknown[] = [];
    return { out, fill: { entries: [...value].entries(), put: (index, item) => (out[index as number] = item) } };
  }
  if (value instanceof PyGlobal) return { out: { __global__: value.qualifiedName } };
  return { out: value };
}

/** `object[key] = value` as data: defineProperty, so that a key named '__proto__' cannot replace the prototype. */
export function setEntry<T>(object: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A dict key as a name: strings as they are, numbers in decimal, anything else (a tuple…) described. */
export function keyText(key: unknown): string {
  if (typeof key === 'string') return key;
  if (typeof key === 'number' || typeof key === 'boolean' || key === null) return String(key);
  return describeValue(key);
}

/**
 * A short description of unpickled data for messages, bounded in length and depth whatever the data
 * (deeply nested, shared, cyclic or huge).
 */
export function describeValue(value: unknown, depth = 0): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (typeof value === 'bigint') {
    const digits = value.toString(16).replace('-', '');
    return digits.length > 16 ? `<${4 * digits.length}-bit integer>` : String(value);
  }
  if (value === null || typeof value !== 'object') return String(value);
  if (value instanceof PyGlobal) return value.qualifiedName;
  if (value instanceof PyObject) return `<${value.className} object>`;
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  const items = (entries: Iterable<unknown>, size: number, describe: (item: unknown) => string) => {
    const shown: string[] = [];
    for (const entry of entries) {
      if (shown.length === 6) return `${shown.join(', ')}, … (${size} items)`;
      shown.push(describe(entry));
    }
    return shown.join(', ');
  };
  const inner = (item: unknown) => describeValue(item, depth + 1);
  if (Array.isArray(value)) return depth >= 2 ? '[…]' : `[${items(value, value.length, inner)}]`;
  if (value instanceof Set) return depth >= 2 ? '{…}' : `{${items(value, value.size, inner)}}`;
  if (value instanceof Map) {
    const pair = (entry: unknown) => `${inner((entry as [unknown, unknown])[0])}: ${inner((entry as [unknown, unknown])[1])}`;
    return depth >= 2 ? '{…}' : `{${items(value, value.size, pair)}}`;
  }
  return `<${value.constructor?.name ?? 'object'}>`;
}

const UTF8 = new TextDecoder('utf-8');
const LATIN1 = new TextDecoder('latin1');

/**
 * What the machine's objects cost in memory, in bytes, as measured on Node 20 (a Map with its table, an
 * inert PyObject with its Map and array…), for the budget. Each value pushed costs a `slot`: that covers
 * the stack and, once the value is moved into a container, its place there.
 */
const COST = { slot: 16, array: 48, map: 200, set: 160, object: 320 } as const;

/** A shallow estimate of what a constructor or a BUILD allocated, for the budget. */
function allocatedBytes(value: unknown): number {
  if (typeof value === 'string') return 2 * value.length;
  if (value instanceof LoadedTensor) return value.hostBytes;
  if (ArrayBuffer.isView(value)) return value.byteLength;
  if (Array.isArray(value)) return COST.array + COST.slot * value.length;
  if (value instanceof Map) return COST.map + 2 * COST.slot * value.size;
  if (value instanceof Set) return COST.set + 2 * COST.slot * value.size;
  if (value instanceof PyObject) return COST.object;
  return 0;
}

class Unpickler {
  private pos: number;
  private stack: unknown[] = [];
  private readonly marks: unknown[][] = [];
  private readonly memo = new Map<number, unknown>();
  private readonly view: DataView;
  private readonly budget: ReadBudget;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly options: UnpickleOptions,
    start: number,
  ) {
    this.pos = start;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.budget = options.budget ?? new ReadBudget(options.file, bytes.length);
  }

  run(): { value: unknown; end: number } {
    try {
      for (;;) {
        const opcodeAt = this.pos;
        const op = this.u8();
        if (op === 0x2e /* STOP '.' */) return { value: this.pop(), end: this.pos };
        this.step(op, opcodeAt);
      }
    } catch (err) {
      if (err instanceof CheckpointError) throw err;
      throw this.fail(err instanceof Error ? err.message : String(err), err);
    }
  }

  private fail(problem: string, cause?: unknown): CheckpointError {
    return new CheckpointError(this.options.file, `pickle: ${problem}`, { cause });
  }

  // --- reading the byte stream -------------------------------------------------------------------

  private need(n: number): number {
    if (this.pos + n > this.bytes.length) {
      throw this.fail(`data ends at byte ${this.bytes.length} in the middle of an opcode (file truncated?)`);
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  private u8(): number {
    return this.bytes[this.need(1)];
  }

  private u16(): number {
    return this.view.getUint16(this.need(2), true);
  }

  private i32(): number {
    return this.view.getInt32(this.need(4), true);
  }

  private u32(): number {
    return this.view.getUint32(this.need(4), true);
  }

  private u64(): number {
    const value = this.view.getBigUint64(this.need(8), true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw this.fail(`length ${value} is too large`);
    return Number(value);
  }

  /** The length operand of BINSTRING and LONG4, which Python writes as a signed int32. */
  private signedLength(opcode: string): number {
    const n = this.i32();
    if (n < 0) throw this.fail(`negative ${opcode} length ${n}`);
    return n;
  }

  private take(n: number): Uint8Array {
    const at = this.need(n);
    return this.bytes.subarray(at, at + n);
  }

  /** A copy that owns its memory (the input may be a Node Buffer, whose `slice` is a view). */
  private copy(n: number): Uint8Array {
    const data = this.take(n);
    this.charge(n, 'a bytes object');
    const out = new Uint8Array(n);
    out.set(data);
    return out;
  }

  private line(): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) throw this.fail('data ends inside a text line (file truncated?)');
    const text = LATIN1.decode(this.bytes.subarray(this.pos, end));
    this.pos = end + 1;
    return text;
  }

  private utf8(n: number): string {
    const data = this.take(n);
    this.charge(2 * n, 'a string');
    return UTF8.decode(data);
  }

  private latin1(n: number): string {
    const data = this.take(n);
    this.charge(2 * n, 'a string');
    return LATIN1.decode(data);
  }

  private charge(bytes: number, what: string): void {
    this.budget.charge(bytes, () => `${what} at pickle byte ${this.pos}`);
  }

  // --- the stack ---------------------------------------------------------------------------------

  private push(value: unknown): void {
    this.charge(COST.slot, 'the stack');
    this.stack.push(value);
  }

  /** Pushes a container the opcode just made, charging what an empty one of its kind takes. */
  private pushNew(value: unknown[] | Map<unknown, unknown> | Set<unknown>): void {
    this.charge(Array.isArray(value) ? COST.array : value instanceof Map ? COST.map : COST.set, 'a container');
    this.push(value);
  }

  private pop(): unknown {
    if (this.stack.length === 0) throw this.fail('stack underflow (corrupt pickle)');
    return this.stack.pop();
  }

  private top(): unknown {
    if (this.stack.length === 0) throw this.fail('stack underflow (corrupt pickle)');
    return this.stack[this.stack.length - 1];
  }

  private popMark(): unknown[] {
    const items = this.stack;
    const previous = this.marks.pop();
    if (previous === undefined) throw this.fail('MARK expected (corrupt pickle)');
    this.stack = previous;
    return items;
  }

  private memoPut(index: number): void {
    this.charge(2 * COST.slot, 'the memo');
    this.memo.set(index, this.top());
  }

  private memoGet(index: number): unknown {
    if (!this.memo.has(index)) throw this.fail(`memo entry ${index} is missing (corrupt pickle)`);
    return this.memo.get(index);
  }

  // --- globals and objects -----------------------------------------------------------------------

  private global(module: string, name: string): unknown {
    this.charge(COST.array, 'a global');
    const qualifiedName = `${module}.${name}`;
    const construct = this.options.constructors[qualifiedName];
    return construct !== undefined ? new PyCallable(qualifiedName, construct) : new PyGlobal(module, name);
  }

  private call(callable: unknown, args: unknown): unknown {
    if (!Array.isArray(args)) throw this.fail('REDUCE arguments are not a tuple');
    if (callable instanceof PyCallable) {
      try {
        const result = callable.call(args);
        // Constructors that pass their argument through (Parameter, TorchScript's typed lists) allocate nothing.
        if (result !== args[0]) this.charge(allocatedBytes(result), `${callable.qualifiedName}(…)`);
        return result;
      } catch (err) {
        if (err instanceof CheckpointError) throw err;
        throw this.fail(`${callable.qualifiedName}: ${err instanceof Error ? err.message : String(err)}`, err);
      }
    }
    if (callable instanceof PyGlobal) {
      throw this.fail(
        `it calls ${callable.qualifiedName}, which is not an allowed constructor ` +
          '(model files may only build data; ganvec never runs code from them)',
      );
    }
    throw this.fail('REDUCE on something that is not a global');
  }

  private instantiate(cls: unknown, args: unknown[]): unknown {
    // NEWOBJ is cls.__new__(cls, *args): known constructors build their data, unknown classes stay inert.
    if (cls instanceof PyCallable) return this.call(cls, args);
    if (cls instanceof PyGlobal) {
      this.charge(COST.object, 'an object');
      return new PyObject(cls.qualifiedName, args);
    }
    throw this.fail('NEWOBJ on something that is not a class');
  }

  private build(target: unknown, state: unknown): void {
    if (typeof target === 'object' && target !== null && SET_STATE in target) {
      (target as Buildable)[SET_STATE](state);
      this.charge(allocatedBytes(target), 'BUILD');
    } else if (target instanceof PyObject) {
      target.state = state;
    } else if (target instanceof Map) {
      // Attributes of a dict subclass (e.g. OrderedDict._metadata on state dicts) are not items: skip.
    } else if (state !== null) {
      throw this.fail('BUILD on an object that takes no state');
    }
  }

  private setItems(target: unknown, items: unknown[]): void {
    if (items.length % 2 !== 0) throw this.fail('SETITEMS with an odd number of items');
    const map = target instanceof Map ? target : target instanceof PyObject ? target.dictItems : undefined;
    if (map === undefined) throw this.fail('SETITEM on something that is not a dict');
    for (let i = 0; i < items.length; i += 2) map.set(items[i], items[i + 1]);
  }

  private appendItems(target: unknown, items: unknown[]): void {
    const list = Array.isArray(target) ? target : target instanceof PyObject ? target.listItems : undefined;
    if (list === undefined) throw this.fail('APPEND on something that is not a list');
    // A loop, not push(...items): APPENDS can carry more items than a call takes arguments.
    for (const item of items) list.push(item);
  }

  private addItems(target: unknown, items: unknown[]): void {
    if (!(target instanceof Set)) throw this.fail('ADDITEMS on something that is not a set');
    for (const item of items) target.add(item);
  }

  private persistent(pid: unknown): unknown {
    if (this.options.persistentLoad === undefined) {
      throw this.fail('it refers to a persistent id, which this kind of file does not use');
    }
    return this.options.persistentLoad(pid);
  }

  // --- numbers -----------------------------------------------------------------------------------

  private long(raw: Uint8Array): number | bigint {
    // Little-endian two's complement of any length, read as one hexadecimal literal (linear time; adding
    // a byte at a time with shifts copies the growing number each time, quadratic for long ones).
    if (raw.length === 0) return 0;
    this.charge(2 * raw.length, 'an integer');
    let value = BigInt(`0x${Buffer.from(raw).reverse().toString('hex')}`);
    if (raw[raw.length - 1]! & 0x80) value -= 1n << BigInt(raw.length * 8);
    return smallest(value);
  }

  private decimalInt(text: string): number | bigint {
    const digits = text.endsWith('L') ? text.slice(0, -1) : text;
    if (!/^[-+]?\d+$/.test(digits)) throw this.fail(`bad integer literal ${describeValue(text)}`);
    return smallest(BigInt(digits));
  }

  // --- the opcode table --------------------------------------------------------------------------

  private step(op: number, opcodeAt: number): void {
    switch (op) {
      // Framing and protocol.
      case 0x80: // PROTO
        if (this.u8() > 5) throw this.fail('pickle protocol newer than 5');
        return;
      case 0x95: // FRAME: a length prefix for buffering only.
        this.u64();
        return;

      // Stack manipulation.
      case 0x28: // MARK
        this.charge(COST.array, 'a MARK');
        this.marks.push(this.stack);
        this.stack = [];
        return;
      case 0x30: // POP
        if (this.stack.length > 0) this.pop();
        else this.popMark();
        return;
      case 0x31: // POP_MARK
        this.popMark();
        return;
      case 0x32: // DUP
        this.push(this.top());
        return;

      // Memo.
      case 0x70: // PUT
        this.memoPut(Number(this.decimalInt(this.line())));
        return;
      case 0x71: // BINPUT
        this.memoPut(this.u8());
        return;
      case 0x72: // LONG_BINPUT
        this.memoPut(this.u32());
        return;
      case 0x94: // MEMOIZE
        this.memoPut(this.memo.size);
        return;
      case 0x67: // GET
        this.push(this.memoGet(Number(this.decimalInt(this.line()))));
        return;
      case 0x68: // BINGET
        this.push(this.memoGet(this.u8()));
        return;
      case 0x6a: // LONG_BINGET
        this.push(this.memoGet(this.u32()));
        return;

      // Constants and numbers.
      case 0x4e: // NONE
        this.push(null);
        return;
      case 0x88: // NEWTRUE
        this.push(true);
        return;
      case 0x89: // NEWFALSE
        this.push(false);
        return;
      case 0x49: {
        // INT (protocol 0): "I01"/"I00" are True/False.
        const text = this.line();
        if (text === '01' || text === '00') this.push(text === '01');
        else this.push(this.decimalInt(text));
        return;
      }
      case 0x4a: // BININT
        this.push(this.i32());
        return;
      case 0x4b: // BININT1
        this.push(this.u8());
        return;
      case 0x4d: // BININT2
        this.push(this.u16());
        return;
      case 0x4c: // LONG (protocol 0)
        this.push(this.decimalInt(this.line()));
        return;
      case 0x8a: // LONG1
        this.push(this.long(this.take(this.u8())));
        return;
      case 0x8b: // LONG4
        this.push(this.long(this.take(this.signedLength('LONG4'))));
        return;
      case 0x46: // FLOAT (protocol 0)
        this.push(Number.parseFloat(this.line()));
        return;
      case 0x47: // BINFLOAT: big-endian double.
        this.push(this.view.getFloat64(this.need(8), false));
        return;

      // Strings and bytes.
      case 0x58: // BINUNICODE
        this.push(this.utf8(this.u32()));
        return;
      case 0x8c: // SHORT_BINUNICODE
        this.push(this.utf8(this.u8()));
        return;
      case 0x8d: // BINUNICODE8
        this.push(this.utf8(this.u64()));
        return;
      case 0x56: // UNICODE (protocol 0, raw-unicode-escape)
        this.push(rawUnicodeUnescape(this.line()));
        return;
      case 0x53: // STRING (protocol 0, a quoted Python 2 str)
        this.push(pythonStringLiteral(this.line(), (m) => this.fail(m)));
        return;
      case 0x54: // BINSTRING (Python 2 str, kept as latin-1 text)
        this.push(this.latin1(this.signedLength('BINSTRING')));
        return;
      case 0x55: // SHORT_BINSTRING
        this.push(this.latin1(this.u8()));
        return;
      case 0x42: // BINBYTES
        this.push(this.copy(this.u32()));
        return;
      case 0x43: // SHORT_BINBYTES
        this.push(this.copy(this.u8()));
        return;
      case 0x8e: // BINBYTES8
        this.push(this.copy(this.u64()));
        return;
      case 0x96: // BYTEARRAY8
        this.push(this.copy(this.u64()));
        return;
      case 0x97: // NEXT_BUFFER
      case 0x98: // READONLY_BUFFER
        throw this.fail('out-of-band buffers (pickle protocol 5 NEXT_BUFFER) are not supported');

      // Containers.
      case 0x29: // EMPTY_TUPLE
        this.pushNew([]);
        return;
      case 0x74: // TUPLE
        this.pushNew(this.popMark());
        return;
      case 0x85: // TUPLE1
        this.pushNew([this.pop()]);
        return;
      case 0x86: {
        // TUPLE2
        const b = this.pop();
        this.pushNew([this.pop(), b]);
        return;
      }
      case 0x87: {
        // TUPLE3
        const c = this.pop();
        const b = this.pop();
        this.pushNew([this.pop(), b, c]);
        return;
      }
      case 0x5d: // EMPTY_LIST
        this.pushNew([]);
        return;
      case 0x6c: // LIST
        this.pushNew(this.popMark());
        return;
      case 0x61: {
        // APPEND
        const item = this.pop();
        this.appendItems(this.top(), [item]);
        return;
      }
      case 0x65: {
        // APPENDS
        const items = this.popMark();
        this.appendItems(this.top(), items);
        return;
      }
      case 0x7d: // EMPTY_DICT
        this.pushNew(new Map());
        return;
      case 0x64: {
        // DICT
        const dict = new Map();
        this.setItems(dict, this.popMark());
        this.pushNew(dict);
        return;
      }
      case 0x73: {
        // SETITEM
        const value = this.pop();
        const key = this.pop();
        this.setItems(this.top(), [key, value]);
        return;
      }
      case 0x75: {
        // SETITEMS
        const items = this.popMark();
        this.setItems(this.top(), items);
        return;
      }
      case 0x8f: // EMPTY_SET
        this.pushNew(new Set());
        return;
      case 0x90: {
        // ADDITEMS
        const items = this.popMark();
        this.addItems(this.top(), items);
        return;
      }
      case 0x91: // FROZENSET
        this.pushNew(new Set(this.popMark()));
        return;

      // Globals, calls and objects.
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = this.line();
        this.push(this.global(module, this.line()));
        return;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = this.pop();
        const module = this.pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw this.fail('STACK_GLOBAL needs two strings');
        this.push(this.global(module, name));
        return;
      }
      case 0x52: {
        // REDUCE
        const args = this.pop();
        this.push(this.call(this.pop(), args));
        return;
      }
      case 0x81: {
        // NEWOBJ
        const args = this.pop();
        if (!Array.isArray(args)) throw this.fail('NEWOBJ arguments are not a tuple');
        this.push(this.instantiate(this.pop(), args));
        return;
      }
      case 0x92: {
        // NEWOBJ_EX: keyword arguments are kept with the positional ones.
        const kwargs = this.pop();
        const args = this.pop();
        if (!Array.isArray(args)) throw this.fail('NEWOBJ_EX arguments are not a tuple');
        const all = kwargs instanceof Map && kwargs.size > 0 ? [...args, kwargs] : args;
        if (all !== args) this.charge(allocatedBytes(all), 'NEWOBJ_EX arguments');
        this.push(this.instantiate(this.pop(), all));
        return;
      }
      case 0x69: {
        // INST "module\nname\n" with the arguments since MARK
        const module = this.line();
        const cls = this.global(module, this.line());
        this.push(this.instantiate(cls, this.popMark()));
        return;
      }
      case 0x6f: {
        // OBJ: MARK cls args...
        const [cls, ...args] = this.popMark();
        this.push(this.instantiate(cls, args));
        return;
      }
      case 0x62: {
        // BUILD
        const state = this.pop();
        this.build(this.top(), state);
        return;
      }
      case 0x50: // PERSID
        this.push(this.persistent(this.line()));
        return;
      case 0x51: // BINPERSID
        this.push(this.persistent(this.pop()));
        return;
      case 0x82: // EXT1
      case 0x83: // EXT2
      case 0x84: // EXT4
        throw this.fail('copyreg extension codes (EXT1/2/4) are not supported');
      default:
        throw this.fail(`unknown opcode 0x${op.toString(16).padStart(2, '0')} at byte ${opcodeAt} (corrupt or not a pickle)`);
    }
  }
}

function smallest(value: bigint): number | bigint {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

/** Decodes protocol 0 UNICODE text: latin-1 with \uXXXX and \UXXXXXXXX escapes. */
function rawUnicodeUnescape(text: string): string {
  return text.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, short: string | undefined, long: string | undefined) =>
    String.fromCodePoint(Number.parseInt(short ?? long ?? '0', 16)),
  );
}

/** Decodes a quoted Python 2 string literal as written by the protocol 0 STRING opcode. */
function pythonStringLiteral(text: string, fail: (problem: string) => Error): string {
  const quote = text[0];
  if ((quote !== "'" && quote !== '"') || text.length < 2 || text[text.length - 1] !== quote) {
    throw fail('STRING argument is not a quoted literal');
  }
  const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"' };
  return text
    .slice(1, -1)
    .replace(/\\(x[0-9a-fA-F]{2}|.)/g, (_, escape: string) =>
      escape.length === 3 ? String.fromCharCode(Number.parseInt(escape.slice(1), 16)) : (simple[escape] ?? `\\${escape}`),
    );
}
