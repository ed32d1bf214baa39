// `ganvec export onnx`: one self-contained ONNX model of a generator, for stock ONNX Runtime anywhere.
import { Command, Option } from 'commander';
import {
  domainVectorProblem, exportOnnx, generatorOptionsFor, loadGenerator, loadWeightedDomains, parameterisationNames, writeFileAtomic,
} from '../index.js';
import { domainArgs } from './domain-args.js';
import { integerIn, modelOption, repeatable } from './options.js';
import { downloadProgress } from './progress.js';
import { UsageError } from './run.js';

const HELP = `
The model holds the weights, mapping, truncation and synthesis; it runs in onnxruntime-node,
onnxruntime (Python) and onnxruntime-web (wasm) as they are. Inputs and output (N = --batch):
  z            float32 [N, zDim]          (--latent w: w [N, nLatent, wDim], W+ rows)
  truncation   float32 [1]                psi toward w_avg; 1 = none
  domain       float32 [domainSize]       the trained vector; zeros = the original generator
                                          (absent with --bake-domain: the --domain mix is stored inside)
  const_noise  float32 [1]                1 = noise mode const (the stored maps), 0 = none or random
  noise_<i>    float32 [N, 1, R, R]       added to const_noise x stored map: zeros, or N(0,1) for random
  img          float32 [N, 3, S, S]       images in [-1, 1], not clamped (S = --size)
The same list, with the domain layers and the generator's fingerprint, is in the model's metadata
(ganvec_interface, domain_layers, base_fingerprint). z for a seed is numpy.random.RandomState(seed).randn.

Examples:
  ganvec export onnx --model ffhq --out ffhq.onnx
  ganvec export onnx --model ffhq --domain pixar.dv.safetensors --bake-domain --size 256 --out pixar-256.onnx`;

interface ExportFlags {
  model: string;
  out: string;
  domain?: string[];
  bakeDomain?: boolean;
  parameterisation?: string;
  latent: 'z' | 'w';
  batch: number;
  size?: number;
}

export function registerExport(program: Command): void {
  const command = program
    .command('export')
    .description('export a generator to another runtime\'s format')
    .addHelpText('after', `
Examples:
  ganvec export onnx --model ffhq --out ffhq.onnx
  ganvec export onnx --model ffhq --domain pixar.dv.safetensors --bake-domain --out pixar.onnx`);
  command
    .command('onnx')
    .description('export a generator (optionally with a domain baked in) as one self-contained ONNX model')
    .addOption(modelOption())
    .requiredOption('--out <file.onnx>', 'the ONNX model to write')
    .option('--domain <file[:weight]>', 'domain file(s) that fix the parameterisation and layers; with --bake-domain, their mix is stored in the model', repeatable)
    .option('--bake-domain', 'store the --domain mix in the model instead of taking a domain input')
    .addOption(new Option('--parameterisation <name>', 'how the domain input enters the generator when no --domain is given').choices(parameterisationNames()))
    .addOption(new Option('--latent <kind>', 'the latent input: z (mapped inside the model) or w (W+ rows)').choices(['z', 'w']).default('z'))
    .option('--batch <n>', 'images per run (the model is static in it)', integerIn({ min: 1 }), 1)
    .addOption(new Option('--size <px>', 'output side: the generator\'s size divided by a whole factor (box average)').argParser(integerIn({ min: 1 })).default(undefined, 'the full size'))
    .addHelpText('after', HELP)
    .action(async (flags: ExportFlags) => exportCommand(flags));
}

async function exportCommand(flags: ExportFlags): Promise<void> {
  if (flags.bakeDomain && !flags.domain) throw new UsageError('--bake-domain needs --domain');
  if (flags.domain && flags.parameterisation) throw new UsageError('--parameterisation comes from the --domain files; give one or the other');
  const domains = await domainArgs(flags.domain ?? []);
  const forDomains = domains.length > 0 ? await generatorOptionsFor(domains.map((d) => d.path)) : { parameterisation: flags.parameterisation };
  const G = await loadGenerator(flags.model, { ...forDomains, downloads: downloadProgress() });
  try {
    let bakeDomain: Float32Array | undefined;
    if (flags.bakeDomain) {
      bakeDomain = await loadWeightedDomains(domains, G);
      const problem = domainVectorProblem(bakeDomain, G);
      if (problem) throw new UsageError(`--domain ${flags.domain!.join(' + ')}: the mixed domain vector ${problem}`);
    } else if (domains.length > 0) {
      // Checked now, so a file for other weights fails here rather than in the page that loads it.
      await loadWeightedDomains(domains, G);
    }
    const { model, spec } = await exportOnnx(G, { latent: flags.latent, batch: flags.batch, size: flags.size, bakeDomain });
    await writeFileAtomic(flags.out, model);
    const sizeOf = (s: number[]) => `[${s.join(', ')}]`;
    process.stdout.write(`wrote ${flags.out}: ${(model.length / 1024 ** 2).toFixed(1)} MB, ONNX opset ${spec.opset}\n`);
    for (const i of spec.inputs) process.stdout.write(`  input  ${i.name.padEnd(12)} float32 ${sizeOf(i.shape)}\n`);
    for (const o of spec.outputs) process.stdout.write(`  output ${o.name.padEnd(12)} float32 ${sizeOf(o.shape)}\n`);
  } finally {
    await G.release();
  }
}
