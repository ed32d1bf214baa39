#!/usr/bin/env node
// The `ganvec` command: each subcommand lives in its own file under src/cli and registers itself here.
import { Command } from 'commander';
import { VERSION } from '../index.js';
import { HELP_CONFIGURATION, resolveAliases } from './options.js';
import { OUTPUT_CONFIGURATION, runCli } from './run.js';
import { registerModels } from './models.js';
import { registerGenerate } from './generate.js';
import { registerInfo } from './info.js';
import { registerTokenize } from './tokenize.js';
import { registerEmbed } from './embed.js';
import { registerAdapt } from './adapt.js';
import { registerEval } from './eval.js';
import { registerMix } from './mix.js';
import { registerImport } from './import.js';
import { registerExport } from './export.js';
import { registerServeWeb } from './serve-web.js';
import { registerAlign } from './align.js';
import { registerProject } from './project.js';
import { registerStylize } from './stylize.js';

const program = new Command('ganvec')
  .description('Domain adaptation of pretrained GANs with tiny domain vectors, guided by CLIP and a text or a few example images.')
  .version(VERSION)
  .configureHelp(HELP_CONFIGURATION)
  .configureOutput(OUTPUT_CONFIGURATION)
  .addHelpText('after', `
Examples:
  ganvec adapt --model ffhq --to "pixar" --out pixar.dv.safetensors
  ganvec generate --model ffhq --domain pixar.dv.safetensors --seeds 0-7 --out pixar.png
  ganvec eval --model ffhq --domain pixar.dv.safetensors --to "pixar"
  ganvec models list

Environment:
  GANVEC_HOME      where downloaded models and caches live (default: ~/.cache/ganvec)
  GANVEC_OFFLINE   1: never use the network (registered models must be in the cache)
  GANVEC_REGISTRY  another registry file instead of the bundled pretrained/registry.json
  GANVEC_DEBUG     1: print stack traces with errors`);

// The main job first: train, use, score; then the tools around it.
const commands: Array<(p: Command) => void> = [
  registerAdapt, registerGenerate, registerEval, registerMix, registerImport, registerExport, registerServeWeb,
  registerAlign, registerProject, registerStylize, registerModels, registerInfo, registerEmbed, registerTokenize,
];
for (const register of commands) register(program);

await runCli(program, resolveAliases(process.argv));
