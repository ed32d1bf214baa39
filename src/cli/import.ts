// `ganvec import`: a HyperDomainNet or StyleDomain domain checkpoint → a ganvec domain file.
import type { Command } from 'commander';
import { importedDomainFile, loadGenerator, readForeignDomain, writeDomainFile } from '../index.js';
import { downloadProgress } from './progress.js';
import { modelOption } from './options.js';

const HELP = `
Reads the checkpoint their trainers save (models_<step>.pt: model_type, patch_key, state_dict of
heads.conv_<i>.params_in, sg2_params) without executing anything in it:
  HyperDomainNet, patch_key cin_mult  → a domain vector (--parameterisation domain-vector)
  StyleDomain,    patch_key s_delta   → StyleSpace offsets (--parameterisation style-offsets)
The checkpoint does not say which weights it was trained on, so --model names the generator (the
rosinality .pt they trained on, or the same weights in another format); the domain file is then checked
against that generator wherever it is used. Provenance goes into the metadata (imported_from).

Examples:
  ganvec import models_300.pt --model ffhq --out pixar.dv.safetensors
  ganvec import sdelta_sketch.pt --model ./stylegan2-ffhq-config-f.pt --out sketch.dv.safetensors`;

export function registerImport(program: Command): void {
  program
    .command('import')
    .description('import a HyperDomainNet (cin_mult) or StyleDomain (s_delta) domain checkpoint as a domain file')
    .argument('<checkpoint>', 'the .pt their trainer saved')
    .addOption(modelOption())
    .requiredOption('--out <file.dv.safetensors>', 'the domain file to write')
    .addHelpText('after', HELP)
    .action(async (path: string, flags: { model: string; out: string }) => {
      const foreign = await readForeignDomain(path);
      const G = await loadGenerator(flags.model, { parameterisation: foreign.parameterisation, downloads: downloadProgress() });
      try {
        const file = importedDomainFile(foreign, G);
        await writeDomainFile(flags.out, file);
        process.stdout.write(`wrote ${flags.out}: ${foreign.tool} ${foreign.patchKey}, ${foreign.heads.length} layers, ${file.vector.length} values (${foreign.parameterisation})\n`);
      } finally {
        await G.release();
      }
    });
}
