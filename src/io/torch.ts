import { numel, shapeString } from '../core/tensor.js';
import type { TensorData } from '../core/tensor.js';
import { CheckpointError } from './errors.js';
import { NUMPY_CONSTRUCTORS } from './pickle-numpy.js';
import { BUILTIN_CONSTRUCTORS, PyCallable, PyGlobal, describeValue, unpickle } from './pickle.js';
import type { Constructors } from './pickle.js';
import { ReadBudget } from './read-budget.js';
import { HOST_ITEM_SIZE, ITEM_SIZE, LoadedTensor, contiguousStrides, decodeElements, gatherStrided, viewExtent } from './storage.js';
import type { ElementType } from './storage.js';
import { bytesSource, readBytes, withFileSource } from './byte-source.js';
import { ZipArchive } from './zip.js';

/**
 * Files written by PyTorch: `torch.save` zip archives (PyTorch ≥ 1.6), the legacy stream format
 * (`_use_new_zipfile_serialization=False` and PyTorch < 1.6, also what `torch.storage._load_from_bytes`
 * reads inside NVIDIA's pickles) and TorchScript archives (`torch.jit.save`, OpenAI's released CLIP).
 * In all of them tensors are `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, …)` calls in a
 * pickle, and storages are persistent ids resolved to raw little-endian buffers stored beside the pickle.
 * Every view is checked against its storage when it is made; its values are copied out on first use.
 */

/** Storage classes as pickles name them (`torch.FloatStorage`, or `torch.cuda.FloatStorage` if saved from GPU). */
const STORAGE_TYPES: Record<string, ElementType> = {
  FloatStorage: 'float32',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  DoubleStorage: 'float64',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

/** The first pickle of a legacy torch.save stream is this number. */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL_VERSION = 1001;

/**
 * How many times a view may repeat its storage's elements. A view with more elements than its storage
 * overlaps itself (stride 0, as `expand()` makes, or overlapping strides); real checkpoints barely do
 * that, and a 16 KB file could otherwise ask for [32768, 32768] copies of one float.
 */
const MAX_VIEW_REPEAT = 4;

/** A flat typed buffer that tensors view; `values` arrive when the file's storage data is read. */
class TorchStorage {
  values: TensorData | undefined;

  constructor(
    readonly key: string,
    readonly type: ElementType,
    readonly numel: number,
  ) {}

  /** Bytes of its elements in the file. */
  get byteLength(): number {
    return this.numel * ITEM_SIZE[this.type];
  }
}

interface PendingView {
  tensor: LoadedTensor;
  storage: TorchStorage;
  offset: number;
  strides: number[];
}

/**
 * One unpickling of torch objects. Tensors are created while the pickle is read but their storage data
 * may come later (the legacy format stores it after the pickle), so views are resolved in `finish()`.
 */
class TorchUnpickling {
  private readonly pending: PendingView[] = [];

  constructor(
    readonly file: string,
    readonly budget: ReadBudget,
  ) {}

  constructors(extra: Constructors = {}): Constructors {
    return {
      ...BUILTIN_CONSTRUCTORS,
      ...NUMPY_CONSTRUCTORS,
      'torch._utils._rebuild_tensor_v2': (args) => this.rebuildTensor(args),
      'torch._utils._rebuild_tensor': (args) => this.rebuildTensor(args),
      // A Parameter is its tensor; requires_grad and hooks do not matter for frozen weights.
      'torch._utils._rebuild_parameter': (args) => args[0],
      'torch._utils._rebuild_parameter_with_state': (args) => args[0],
      // Tensor subclasses: _rebuild_from_type_v2(rebuild function, subclass, its arguments, state).
      'torch._tensor._rebuild_from_type_v2': (args) => {
        const [rebuild, , rebuildArgs] = args;
        if (!(rebuild instanceof PyCallable) || !Array.isArray(rebuildArgs)) throw new TypeError('unsupported tensor subclass rebuild');
        return rebuild.call(rebuildArgs);
      },
      'torch.storage._load_from_bytes': (args) => this.loadFromBytes(args[0]),
      'torch.device': (args) => {
        if (!args.every((a) => typeof a === 'string' || typeof a === 'number')) throw new TypeError('torch.device expects a type and an index');
        return args.join(':');
      },
      // TorchScript's pickler wraps typed lists and type-tagged values in these; the data is the argument.
      'torch.jit._pickle.build_intlist': (args) => args[0],
      'torch.jit._pickle.build_doublelist': (args) => args[0],
      'torch.jit._pickle.build_boollist': (args) => args[0],
      'torch.jit._pickle.build_tensorlist': (args) => args[0],
      'torch.jit._pickle.restore_type_tag': (args) => args[0],
      ...extra,
    };
  }

  /** Resolves ('storage', storage class, key, location, numel[, view metadata]) persistent ids. */
  storageFromPid(pid: unknown, storages: Map<string, TorchStorage>): TorchStorage {
    if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) {
      throw new CheckpointError(this.file, `unexpected persistent id ${describeValue(pid)} (expected a torch storage)`);
    }
    const [, storageClass, key, , count, viewMetadata] = pid;
    const type = storageClass instanceof PyGlobal && /^torch(\.cuda)?$/.test(storageClass.module)
      ? STORAGE_TYPES[storageClass.name]
      : undefined;
    if (type === undefined) {
      throw new CheckpointError(this.file, `unsupported storage type ${describeValue(storageClass)}`);
    }
    if (typeof key !== 'string') throw new CheckpointError(this.file, `malformed storage id ${describeValue(pid)}`);
    if (!isIndex(count)) throw new CheckpointError(this.file, `storage ${key} declares ${describeValue(count)} elements`);
    if (viewMetadata !== undefined && viewMetadata !== null) {
      throw new CheckpointError(this.file, 'storage views (written by PyTorch before 1.0) are not supported');
    }
    let storage = storages.get(key);
    if (storage === undefined) {
      storage = new TorchStorage(key, type, count);
      storages.set(key, storage);
    }
    return storage;
  }

  /** A view of a storage, checked against it; its values are given in `finish()`. */
  private rebuildTensor(args: unknown[]): LoadedTensor {
    const [storage, offset, size, stride] = args;
    if (!(storage instanceof TorchStorage)) throw new TypeError('the first argument is not a storage');
    const fail = (problem: string) => new CheckpointError(this.file, problem);
    if (!isIndex(offset)) throw fail(`a tensor's storage offset ${describeValue(offset)} is not a non-negative integer`);
    if (!isIndexList(size)) throw fail(`a tensor's size ${describeValue(size)} is not a list of non-negative integers`);
    if (!isIndexList(stride)) throw fail(`a tensor's stride ${describeValue(stride)} is not a list of non-negative integers`);
    if (size.length !== stride.length) throw fail(`a tensor's size ${shapeString(size)} and stride ${shapeString(stride)} differ in length`);
    const extent = viewExtent(offset, size, stride);
    if (extent > storage.numel) {
      throw fail(
        `a tensor of shape ${shapeString(size)} at offset ${offset} with strides ${shapeString(stride)} ` +
          `needs ${extent} elements but its storage ${storage.key} has ${storage.numel}`,
      );
    }
    const count = numel(size);
    if (count > MAX_VIEW_REPEAT * storage.numel) {
      throw fail(
        `a tensor of shape ${shapeString(size)} with strides ${shapeString(stride)} has ${count} elements, ` +
          `more than ${MAX_VIEW_REPEAT} times the ${storage.numel} of its storage ${storage.key}`,
      );
    }
    const tensor = new LoadedTensor(new Float32Array(0), size, storage.type);
    this.pending.push({ tensor, storage, offset, strides: stride });
    return tensor;
  }

  /** A whole legacy torch.save of one storage, embedded as bytes (NVIDIA pickles use this for every tensor). */
  private loadFromBytes(blob: unknown): unknown {
    if (!(blob instanceof Uint8Array)) throw new TypeError('expected bytes');
    return parseTorchLegacy(blob, `${this.file} (embedded torch.save)`, this.budget);
  }

  /**
   * Gives every tensor its values once the storages are read. A storage that backs exactly one
   * contiguous tensor becomes that tensor without a copy; other views are copied out on first use (the
   * memory they will take was charged when they were made).
   */
  finish(): void {
    const viewsPerStorage = new Map<TorchStorage, number>();
    for (const { storage } of this.pending) viewsPerStorage.set(storage, (viewsPerStorage.get(storage) ?? 0) + 1);
    for (const { tensor, storage, offset, strides } of this.pending) {
      const values = storage.values;
      if (values === undefined) {
        throw new CheckpointError(this.file, `the data of storage ${storage.key} is missing`);
      }
      const contiguous = contiguousStrides(tensor.shape);
      const wholeStorage =
        offset === 0 &&
        numel(tensor.shape) === storage.numel &&
        strides.every((s, i) => s === contiguous[i] || tensor.shape[i] === 1);
      tensor.data = wholeStorage && viewsPerStorage.get(storage) === 1 ? values : () => gatherStrided(values, offset, tensor.shape, strides);
    }
    this.pending.length = 0;
  }

  /** Decodes a storage's raw bytes, which must hold at least its element count. */
  fill(storage: TorchStorage, bytes: Uint8Array, byteOffset: number, where: string): void {
    const needed = storage.byteLength;
    if (byteOffset + needed > bytes.length) {
      throw new CheckpointError(
        this.file,
        `storage ${storage.key} (${storage.numel} × ${storage.type}) needs ${needed} bytes but ${where} has ${Math.max(0, bytes.length - byteOffset)}`,
      );
    }
    this.budget.charge(storage.numel * HOST_ITEM_SIZE[storage.type], () => `storage ${storage.key}`);
    storage.values = decodeElements(bytes, byteOffset, storage.numel, storage.type);
  }
}

export interface TorchZipContents {
  /** 'torchscript' when the archive is a TorchScript module (it has code/ or constants.pkl). */
  format: 'torch-zip' | 'torchscript';
  /** The unpickled data.pkl: for torch.save the saved object, for TorchScript the root module. */
  root: unknown;
}

/** Reads a torch.save zip or a TorchScript archive. Only the records the pickle refers to are read. */
export async function readTorchZip(path: string): Promise<TorchZipContents> {
  return withFileSource(path, (source) => {
    const budget = new ReadBudget(path, source.size);
    return readTorchZipArchive(ZipArchive.open(source, path, budget), path, budget);
  });
}

function readTorchZipArchive(zip: ZipArchive, file: string, budget: ReadBudget): TorchZipContents {
  // Records live under one top-level folder whose name varies (the file's stem, 'archive', …).
  const dataPkl = [...zip.entries.keys()]
    .filter((name) => name === 'data.pkl' || name.endsWith('/data.pkl'))
    .sort((a, b) => a.length - b.length)[0];
  if (dataPkl === undefined) {
    throw new CheckpointError(file, 'zip archive without data.pkl: not a torch.save or TorchScript file');
  }
  const prefix = dataPkl.slice(0, -'data.pkl'.length);
  const byteOrder = zip.entries.has(`${prefix}byteorder`) ? new TextDecoder().decode(zip.read(`${prefix}byteorder`)) : 'little';
  if (byteOrder.trim() !== 'little') throw new CheckpointError(file, `tensors are stored ${byteOrder}-endian; only little-endian is supported`);
  const isTorchScript = [...zip.entries.keys()].some(
    (name) => name.startsWith(`${prefix}code/`) || name === `${prefix}constants.pkl`,
  );

  const unpickling = new TorchUnpickling(file, budget);
  const storages = new Map<string, TorchStorage>();
  const { value: root } = unpickle(zip.read(dataPkl), {
    file,
    constructors: unpickling.constructors(),
    budget,
    persistentLoad: (pid) => {
      const storage = unpickling.storageFromPid(pid, storages);
      if (storage.values === undefined) {
        const record = `${prefix}data/${storage.key}`;
        const bytes = zip.read(record);
        // torch.save writes each storage's bytes exactly; any other length means another dtype's data.
        if (bytes.length !== storage.byteLength) {
          throw new CheckpointError(
            file,
            `record ${record} has ${bytes.length} bytes but storage ${storage.key} (${storage.numel} × ${storage.type}) ` +
              `takes ${storage.byteLength}: the record is not this storage (relabelled or corrupt)`,
          );
        }
        unpickling.fill(storage, bytes, 0, `record ${record}`);
      }
      return storage;
    },
  });
  unpickling.finish();
  return { format: isTorchScript ? 'torchscript' : 'torch-zip', root };
}

/** True if `bytes` start with the pickled magic number of the legacy torch.save format. */
export function isTorchLegacy(bytes: Uint8Array): boolean {
  try {
    const { value } = unpickle(bytes.subarray(0, 64), { file: '', constructors: {} });
    return value === LEGACY_MAGIC;
  } catch {
    return false;
  }
}

export async function readTorchLegacy(path: string): Promise<unknown> {
  return parseTorchLegacy(await readBytes(path), path);
}

/**
 * The legacy stream: pickles of the magic number, the protocol version (1001) and system info, then the
 * object's pickle, then the pickled list of storage keys, then for each key an int64 element count and
 * the raw elements. A zip given here (newer `_load_from_bytes` blobs) is read as a zip.
 */
export function parseTorchLegacy(bytes: Uint8Array, file: string, budget = new ReadBudget(file, bytes.length)): unknown {
  if (bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) {
    return readTorchZipArchive(ZipArchive.open(bytesSource(bytes), file, budget), file, budget).root;
  }
  const header = (at: number) => unpickle(bytes, { file, constructors: BUILTIN_CONSTRUCTORS, budget }, at);
  const magic = header(0);
  if (magic.value !== LEGACY_MAGIC) throw new CheckpointError(file, 'not a legacy torch.save file (wrong magic number)');
  const protocol = header(magic.end);
  if (protocol.value !== LEGACY_PROTOCOL_VERSION) {
    throw new CheckpointError(file, `unsupported legacy torch.save protocol version ${describeValue(protocol.value)}`);
  }
  const sysInfo = header(protocol.end);
  if (sysInfo.value instanceof Map && sysInfo.value.get('little_endian') === false) {
    throw new CheckpointError(file, 'written on a big-endian machine; only little-endian files are supported');
  }

  const unpickling = new TorchUnpickling(file, budget);
  const storages = new Map<string, TorchStorage>();
  const object = unpickle(
    bytes,
    {
      file,
      constructors: unpickling.constructors(),
      budget,
      persistentLoad: (pid) => unpickling.storageFromPid(pid, storages),
    },
    sysInfo.end,
  );
  const keys = header(object.end);
  if (!Array.isArray(keys.value)) throw new CheckpointError(file, 'storage key list is missing');
  let at = keys.end;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const key of keys.value) {
    // Refused before use: String() of a key nested 100000 tuples deep overflowed the call stack.
    if (typeof key !== 'string') throw new CheckpointError(file, `storage key ${describeValue(key)} is not a string`);
    const storage = storages.get(key);
    if (storage === undefined) throw new CheckpointError(file, `storage ${describeValue(key)} is listed but never used`);
    if (at + 8 > bytes.length) throw new CheckpointError(file, `file ends before the data of storage ${storage.key} (truncated)`);
    const count = Number(view.getBigInt64(at, true));
    if (count !== storage.numel) {
      throw new CheckpointError(file, `storage ${storage.key} holds ${count} elements, the pickle says ${storage.numel}`);
    }
    unpickling.fill(storage, bytes, at + 8, 'the file');
    at += 8 + storage.byteLength;
  }
  unpickling.finish();
  return object.value;
}

/** Unpickles a pickle that holds torch objects (tensors, `_load_from_bytes` storages) but no storage records. */
export function unpickleTorchObjects(bytes: Uint8Array, file: string, extraConstructors: Constructors): unknown {
  const budget = new ReadBudget(file, bytes.length);
  const unpickling = new TorchUnpickling(file, budget);
  const { value } = unpickle(bytes, { file, constructors: unpickling.constructors(extraConstructors), budget });
  unpickling.finish();
  return value;
}

/** A size, offset or element count: a non-negative integer that a double holds exactly. */
function isIndex(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function isIndexList(value: unknown): value is number[] {
  return Array.isArray(value) && value.every(isIndex);
}
