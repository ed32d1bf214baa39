/**
 * facebookresearch/pytorch_GAN_zoo PGAN checkpoints → the format-neutral generator. `ProgressiveGAN.save()`
 * and the hub's released `.pth` files hold `{config, netG, netD, avgG}`: `config` a pickled
 * `models.utils.config.BaseConfig` (read as inert data: its BUILD state is the attribute dict), the
 * networks GNet/DNet state dicts (`scaleLayers.0.1.module.weight`; older files without `.module.`, which
 * pytorch_GAN_zoo's loadStateDictCompatible also accepts). `avgG` is what the hub and `test(getAvG=True)`
 * sample with; without it `netG` is read and the description says so.
 */
import type { Checkpoint } from '../../io/checkpoint.js';
import { floatTensor, type NamedTensors, type ShapePattern } from '../../io/named-tensors.js';
import { PyObject } from '../../io/pickle.js';
import type { ConvWeights, ProgressiveGAN, Scale } from './architecture.js';

const NETWORKS = ['avgG', 'netG'] as const;

/** Output activations by pytorch_GAN_zoo loss (base_loss_criterions.py: generationActivation). */
const TANH_BY_LOSS: Record<string, boolean> = { WGANGP: false, Logistic: false, MSE: true, DCGAN: true };

/** The network read (`avgG`, else `netG`), when the checkpoint holds a GNet state dict. */
export function pganNetwork(ck: Checkpoint): 'avgG' | 'netG' | undefined {
  return NETWORKS.find((net) => hasLayer(ck.tensors, net, 'formatLayer'));
}

/** The BaseConfig's attributes (or a plain dict, as updateConfig also takes). */
function configOf(root: unknown): Map<unknown, unknown> | undefined {
  const config = root instanceof Map ? root.get('config') : undefined;
  if (config instanceof Map) return config;
  if (config instanceof PyObject && config.state instanceof Map) return config.state;
  return undefined;
}

export function fromPytorchGanZoo(ck: Checkpoint): ProgressiveGAN {
  const network = pganNetwork(ck);
  if (!network) throw new Error('not a pytorch_GAN_zoo PGAN checkpoint (no avgG or netG formatLayer)');
  const config = configOf(ck.root);
  if (!config) {
    throw new Error(`it has ${network} weights but no config (the pickled BaseConfig with alpha, leakyReluLeak, lossCriterion…, as ProgressiveGAN.save() writes it)`);
  }
  const setting = <T>(name: string, kind: Kind<T>, fallback?: T): T => {
    const value = config.get(name) ?? fallback;
    if (!kind.test(value)) throw new Error(`config.${name} is ${JSON.stringify(value) ?? 'missing'}; expected ${kind.expected}`);
    return value;
  };
  if (!setting('perChannelNormalization', BOOLEAN, true)) {
    throw new Error('config.perChannelNormalization is false: pytorch_GAN_zoo\'s GNet cannot run such a generator either (its forward pixel-normalises after the format layer unconditionally)');
  }
  const loss = setting('lossCriterion', STRING, 'WGANGP');
  const tanh = TANH_BY_LOSS[loss];
  if (tanh === undefined) throw new Error(`config.lossCriterion "${loss}" is not one of pytorch_GAN_zoo's (${Object.keys(TANH_BY_LOSS).join(', ')})`);
  const equalized = setting('equalizedlR', BOOLEAN, true);
  const gain = (fanIn: number) => (equalized ? Math.sqrt(2 / fanIn) : 1);

  const tensors: NamedTensors = ck.tensors;
  const take = (layer: string, suffix: 'weight' | 'bias', shape: ShapePattern) => {
    const withoutModule = `${network}.${layer}.${suffix}`;
    return floatTensor(tensors, tensors.has(withoutModule) ? withoutModule : `${network}.${layer}.module.${suffix}`, shape);
  };
  const conv = (name: string, inChannels: number, k: number, resolution: number, outChannels?: number): ConvWeights => {
    const w = take(name, 'weight', [outChannels, inChannels, k, k]);
    const out = w.shape[0]!;
    const g = gain(inChannels * k * k);
    return { name, inChannels, outChannels: out, resolution, weight: { data: w.data.map((x) => x * g), shape: [...w.shape] }, bias: take(name, 'bias', [out]).data.map((x) => x * g) };
  };

  const format = take('formatLayer', 'weight', [undefined, undefined]);
  const [formatOut, zDim] = format.shape as [number, number];
  if (formatOut % 16 !== 0) throw new Error(`formatLayer has ${formatOut} outputs; expected 16 · depthScale0`);
  const depth0 = formatOut / 16;
  const formatGain = gain(zDim);
  const formatLayer = { weight: { data: format.data.map((x) => x * formatGain), shape: [formatOut, zDim] }, bias: take('formatLayer', 'bias', [formatOut]).data.map((x) => x * formatGain) };

  const toRgb = (k: number, inChannels: number, resolution: number) => {
    const t = conv(`toRGBLayers.${k}`, inChannels, 1, resolution);
    if (t.outChannels !== 3) throw new Error(`toRGBLayers.${k} has ${t.outChannels} output channels (config.dimOutput); ganvec generates RGB images (3)`);
    return t;
  };
  const scales: Scale[] = [{ resolution: 4, convs: [conv('groupScale0.0', depth0, 3, 4, depth0)], toRgb: toRgb(0, depth0, 4) }];
  for (let k = 0; hasLayer(tensors, network, `scaleLayers.${k}.0`); k++) {
    const resolution = 8 * 2 ** k;
    const first = conv(`scaleLayers.${k}.0`, scales[k]!.convs.at(-1)!.outChannels, 3, resolution);
    const second = conv(`scaleLayers.${k}.1`, first.outChannels, 3, resolution, first.outChannels);
    scales.push({ resolution, convs: [first, second], toRgb: toRgb(k + 1, first.outChannels, resolution) });
  }
  const depths = config.get('depthOtherScales');
  if (Array.isArray(depths) && depths.length !== scales.length - 1) {
    throw new Error(`config.depthOtherScales lists ${depths.length} added scales but ${network} has ${scales.length - 1}`);
  }
  const alpha = scales.length > 1 ? setting('alpha', NUMBER, 0) : 0;
  if (!(alpha >= 0 && alpha <= 1)) throw new Error(`config.alpha is ${alpha}; pytorch_GAN_zoo's fade-in is in [0, 1]`);
  return {
    zDim,
    formatLayer,
    scales,
    leakyReluLeak: setting('leakyReluLeak', NUMBER, 0.2),
    alpha,
    tanh,
    network,
    output: { scale: scales.length - 1, alpha },
  };
}

function hasLayer(tensors: NamedTensors, network: string, layer: string): boolean {
  return tensors.has(`${network}.${layer}.module.weight`) || tensors.has(`${network}.${layer}.weight`);
}

/** A config attribute's expected type. */
interface Kind<T> {
  test: (v: unknown) => v is T;
  expected: string;
}
const NUMBER: Kind<number> = { test: (v): v is number => typeof v === 'number' && Number.isFinite(v), expected: 'a number' };
const BOOLEAN: Kind<boolean> = { test: (v): v is boolean => typeof v === 'boolean', expected: 'true or false' };
const STRING: Kind<string> = { test: (v): v is string => typeof v === 'string', expected: 'a string' };
