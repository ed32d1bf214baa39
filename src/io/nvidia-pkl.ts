import { readBytes } from './byte-source.js';
import { CheckpointError } from './errors.js';
import { PyObject, describeValue, keyText, setEntry, toPlainData } from './pickle.js';
import { LoadedTensor } from './storage.js';
import { flattenTensors, isModuleState } from './tensor-tree.js';
import { unpickleTorchObjects } from './torch.js';

/**
 * NVIDIA network pickles (stylegan2-ada-pytorch and its descendants): a dict such as
 * `{training_set_kwargs, G, D, G_ema, augment_pipe}` whose networks are `torch_utils.persistence` objects.
 * Each is pickled as `_reconstruct_persistent_obj(meta)` where meta holds the class's whole module source
 * and the object's state; NVIDIA's loader executes that source. We keep only the data: class name, init
 * arguments and the tensors reached through `_parameters`, `_buffers` and `_modules`.
 */

/** A persistent object as data: its source is kept for reference, never run. */
export class PersistentObject extends PyObject {
  constructor(
    className: string,
    readonly version: unknown,
    readonly moduleSource: string,
  ) {
    super(className);
  }
}

export interface NvidiaNetwork {
  /** The Python class name, e.g. 'Generator'. */
  className: string;
  /** Constructor arguments as JSON-like data (`_init_args`, `_init_kwargs`). */
  initArgs: unknown[];
  initKwargs: Record<string, unknown>;
  /** state_dict()-style names, e.g. 'synthesis.b8.conv0.weight', 'mapping.w_avg'. */
  tensors: Map<string, LoadedTensor>;
}

export interface NvidiaPickle {
  /** Every top-level entry that is a network (G, D, G_ema, augment_pipe…). */
  networks: Record<string, NvidiaNetwork>;
  /** The other top-level entries as JSON-like data (e.g. training_set_kwargs). */
  other: Record<string, unknown>;
  /** The whole unpickled tree. */
  root: unknown;
}

export async function readNvidiaPickle(path: string): Promise<NvidiaPickle> {
  return parseNvidiaPickle(await readBytes(path), path);
}

export function parseNvidiaPickle(bytes: Uint8Array, file: string): NvidiaPickle {
  const root = unpickleTorchObjects(bytes, file, {
    'torch_utils.persistence._reconstruct_persistent_obj': (args) => reconstructPersistent(args[0]),
  });
  if (!(root instanceof Map)) {
    const tensorflow = Array.isArray(root) && root.some((item) => item instanceof PyObject && item.className.startsWith('dnnlib.tflib.'));
    throw new CheckpointError(
      file,
      tensorflow
        ? 'this is a TensorFlow-era StyleGAN pickle (dnnlib.tflib networks); convert it to PyTorch first with legacy.py from NVlabs/stylegan2-ada-pytorch'
        : 'not a network pickle: the top level is not a dict',
    );
  }
  const networks: Record<string, NvidiaNetwork> = {};
  const other: Record<string, unknown> = {};
  for (const [key, value] of root) {
    if (value instanceof PyObject && isModuleState(value.state)) {
      setEntry(networks, keyText(key), describeNetwork(value, value.state));
    } else {
      setEntry(other, keyText(key), toPlainData(value));
    }
  }
  return { networks, other, root };
}

function reconstructPersistent(meta: unknown): PersistentObject {
  if (!(meta instanceof Map)) throw new TypeError('persistent object metadata is not a dict');
  const type = meta.get('type');
  const className = meta.get('class_name');
  const moduleSource = meta.get('module_src');
  if (type !== 'class' || typeof className !== 'string' || typeof moduleSource !== 'string') {
    throw new TypeError(`unsupported persistent object (type ${describeValue(type)})`);
  }
  const object = new PersistentObject(className, meta.get('version'), moduleSource);
  object.state = meta.get('state');
  return object;
}

function describeNetwork(network: PyObject, state: Map<unknown, unknown>): NvidiaNetwork {
  const initArgs = toPlainData(state.get('_init_args') ?? state.get('init_args') ?? []);
  const initKwargs = toPlainData(state.get('_init_kwargs') ?? state.get('init_kwargs') ?? new Map());
  return {
    className: network.className,
    initArgs: Array.isArray(initArgs) ? initArgs : [],
    initKwargs: typeof initKwargs === 'object' && initKwargs !== null ? (initKwargs as Record<string, unknown>) : {},
    tensors: flattenTensors(network),
  };
}
