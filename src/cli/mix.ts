// `ganvec mix`: a new domain file from weighted domain files (Σ weight · vector), naming its parents.
import type { Command } from 'commander';
import { mixDomainFiles, writeDomainFile } from '../index.js';
import { domainArgs } from './domain-args.js';

const HELP = `
Each FILE:WEIGHT scales one domain vector, and the scaled vectors add (weights need not sum to 1; a
single file with a weight changes its strength). The sum is exact in float64, rounded once to float32,
so the result gives the same images as \`generate --domain a:0.7 --domain b:0.5\`. A FILE may also be
the https URL of a domain file (pin it with #sha256=<hex>). All files must be for the same generator,
parameterisation and layers. The new file's metadata lists its parents: name, sha256 and weight.

Examples:
  ganvec mix pixar.dv.safetensors:0.7 sketch.dv.safetensors:0.5 --out pixar-sketch.dv.safetensors
  ganvec mix pixar.dv.safetensors:1.5 --out strong-pixar.dv.safetensors`;

export function registerMix(program: Command): void {
  program
    .command('mix')
    .description('mix domain files into one: weights scale each vector, the vectors add')
    .argument('<file:weight...>', 'domain files (or https URLs), each optionally :weight (default: 1)')
    .requiredOption('--out <file.dv.safetensors>', 'the mixed domain file to write')
    .addHelpText('after', HELP)
    .action(async (specs: string[], flags: { out: string }) => {
      const mixed = await mixDomainFiles(await domainArgs(specs));
      await writeDomainFile(flags.out, mixed);
      const parents = specs.length === 1 ? 'domain' : `${specs.length} domains`;
      process.stdout.write(`wrote ${flags.out}: ${parents} mixed, ${mixed.vector.length} values (${mixed.metadata.parameterisation})\n`);
    });
}
