// What `--domain` (and `mix`) take: a domain file, a raw .npy or an https URL of a domain file, each
// optionally followed by `:weight`. URLs are fetched into the cache first.
import { parseDomainSpec, type WeightedDomain } from '../index.js';
import { fetchDomainFile, isUrl } from '../registry/index.js';
import { downloadProgress } from './progress.js';

/** The local files (URLs fetched and cached) and weights of `file[:weight]` arguments. */
export async function domainArgs(specs: readonly string[]): Promise<WeightedDomain[]> {
  const parts: WeightedDomain[] = [];
  for (const spec of specs) {
    const { path, weight } = parseDomainSpec(spec);
    parts.push(isUrl(path) ? { path: (await fetchDomainFile(path, downloadProgress())).path, weight, source: path } : { path, weight });
  }
  return parts;
}
