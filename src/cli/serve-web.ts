// `ganvec serve-web`: the browser viewer on a local server, with the generator exported to ONNX.
import type { Command } from 'commander';
import { generatorOptionsFor, loadGenerator, loadWeightedDomains, serveViewer } from '../index.js';
import { domainArgs } from './domain-args.js';
import { integerIn, modelOption, repeatable } from './options.js';
import { downloadProgress } from './progress.js';

const HELP = `
The page (examples/web) runs the model in the browser with onnxruntime-web: WebGPU where the browser
has it, else wasm (threaded: the server sends COOP/COEP headers). Pick a seed, truncation, noise mode,
domain files (file picker, URL, or --domain here) with a strength each, and download the PNG. Seeds give
the same z as \`ganvec generate\` (NumPy's RandomState), so the same image.

Examples:
  ganvec serve-web --model ffhq
  ganvec serve-web --model ffhq --domain pixar.dv.safetensors --port 9000`;

export function registerServeWeb(program: Command): void {
  program
    .command('serve-web')
    .description('serve the browser viewer locally, with the generator exported to ONNX')
    .addOption(modelOption())
    .option('--domain <file>', 'a domain file the page loads at start (repeat for more; URLs are fetched first)', repeatable)
    .option('--port <n>', 'port (0: any free one)', integerIn({ min: 0, max: 65535 }), 8080)
    .option('--host <address>', 'address to listen on; other than 127.0.0.1 shares the page with your network', '127.0.0.1')
    .addHelpText('after', HELP)
    .action(async (flags: { model: string; domain?: string[]; port: number; host: string }) => {
      const domains = await domainArgs(flags.domain ?? []);
      const G = await loadGenerator(flags.model, { ...(await generatorOptionsFor(domains.map((d) => d.path))), downloads: downloadProgress() });
      if (domains.length > 0) await loadWeightedDomains(domains, G); // refused now if a file is for other weights
      const server = await serveViewer(G, { port: flags.port, host: flags.host, domains: domains.map((d) => d.path) });
      process.stdout.write(`serving the ganvec viewer for ${flags.model} at ${server.url} (Ctrl-C to stop)\n`);
      const stop = () => {
        void server.close().then(() => G.release()).then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
