#!/usr/bin/env node
// The `ganvec` command: each subcommand lives in its own file under src/cli and registers itself here.
import { Command } from 'commander';
import { VERSION } from '../index.js';
import { runCli } from './run.js';
import { registerModels } from './models.js';
import { registerGenerate } from './generate.js';
import { registerInfo } from './info.js';
import { registerTokenize } from './tokenize.js';
import { registerEmbed } from './embed.js';
import { registerAdapt } from './adapt.js';
import { registerEval } from './eval.js';

const program = new Command('ganvec')
  .description('Domain adaptation of StyleGAN2 generators with tiny domain vectors (CLIP-guided or few-shot).')
  .version(VERSION);

const commands: Array<(p: Command) => void> = [registerModels, registerGenerate, registerInfo, registerTokenize, registerEmbed, registerAdapt, registerEval];
for (const register of commands) register(program);

await runCli(program, process.argv);
