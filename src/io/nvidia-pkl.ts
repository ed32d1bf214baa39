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
  if (!(root instanceof Map)) throw new CheckpointError(file, tensorflowPickle(root) ?? 'not a network pickle: the top level is not a dict');
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

/**
 * What a TensorFlow-era NVIDIA pickle is, and what to use instead. They pickle a tuple (G, D, Gs) of
 * Network objects whose state holds TensorFlow variables and the source that builds the graph:
 * progressive_growing_of_gans' `tfutil.Network` (the Progressive GAN, karras2018iclr-*.pkl) and
 * `dnnlib.tflib.network.Network` (StyleGAN, state version 3; StyleGAN2, version 4, which is what
 * stylegan2-ada-pytorch's legacy.py converts).
 */
function tensorflowPickle(root: unknown): string | undefined {
  const network = Array.isArray(root) ? root.find((item): item is PyObject => item instanceof PyObject && /^(tfutil|dnnlib\.tflib\.network)\.Network$/.test(item.className)) : undefined;
  if (!network) return undefined;
  if (network.className === 'tfutil.Network') {
    return (
      "this is a TensorFlow-era Progressive GAN pickle (NVIDIA's tfutil.Network, as karras2018iclr-*.pkl are); ganvec runs no TensorFlow networks " +
      "and reads the Progressive GAN as facebookresearch/pytorch_GAN_zoo saves it: use one of its PGAN checkpoints (`ganvec models list`: pgan-celebahq-256, pgan-celebahq-512, …)"
    );
  }
  const version = network.state instanceof Map ? network.state.get('version') : undefined;
  if (typeof version === 'number' && version < 4) {
    return (
      `this is a TensorFlow-era StyleGAN pickle (the first StyleGAN's dnnlib.tflib networks, version ${version}); ganvec reads StyleGAN2, ` +
      "and stylegan2-ada-pytorch's legacy.py converts only StyleGAN2's TensorFlow pickles: use a StyleGAN2 checkpoint (`ganvec models list`)"
    );
  }
  return (
    "this is a TensorFlow-era StyleGAN pickle (StyleGAN2's dnnlib.tflib networks); ganvec runs no TensorFlow networks: convert it to PyTorch first with " +
    'legacy.py from NVlabs/stylegan2-ada-pytorch (`python legacy.py --source=IN.pkl --dest=OUT.pkl`), or use a PyTorch pickle from `ganvec models list`'
  );
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
