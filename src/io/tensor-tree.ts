import { PyObject, keyText } from './pickle.js';
import { LoadedTensor } from './storage.js';

/**
 * Flattens an unpickled checkpoint into dotted tensor names, the names `state_dict()` would give:
 * nested dicts and lists contribute their keys (`g_ema.convs.0.conv.weight`, `latent_avg`), eager
 * nn.Module objects (pickled whole, or NVIDIA persistent objects) contribute their parameters, persistent
 * buffers and submodules, and TorchScript modules (whose state is their attributes) every tensor attribute
 * and submodule. Other values (numbers, strings, hooks, training flags) are not tensors and are skipped.
 *
 * Each container is walked once, under the first name that reaches it: a pickle's memo can share one
 * object under many paths (thirty levels of `L = [L', L']` are 2^30 paths in 561 bytes). A tensor stored
 * under two keys keeps both names. The walk keeps its own stack, so nesting depth is unlimited.
 */
export function flattenTensors(root: unknown): Map<string, LoadedTensor> {
  const out = new Map<string, LoadedTensor>();
  const walked = new Set<object>();
  // Entries still to visit, as [name, value]; the next one is on top, so names come out in walk order.
  const pending: [string, unknown][] = [['', root]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [prefix, value] = next;
    if (value instanceof LoadedTensor) {
      out.set(prefix, value);
      continue;
    }
    if (value === null || typeof value !== 'object' || walked.has(value)) continue;
    walked.add(value);
    const children = childrenOf(value, prefix);
    for (let i = children.length - 1; i >= 0; i--) pending.push(children[i]!);
  }
  return out;
}

/** True for the state of an eager torch.nn.Module (its `__dict__`). */
export function isModuleState(state: unknown): state is Map<unknown, unknown> {
  return state instanceof Map && (state.has('_parameters') || state.has('_modules'));
}

function join(prefix: string, key: unknown): string {
  return prefix === '' ? keyText(key) : `${prefix}.${keyText(key)}`;
}

/** The named values one container holds, in order. */
function childrenOf(value: object, prefix: string): [string, unknown][] {
  if (value instanceof Map) return [...value].map(([key, item]) => [join(prefix, key), item]);
  if (Array.isArray(value)) return value.map((item, index) => [join(prefix, index), item]);
  if (value instanceof PyObject) {
    if (isModuleState(value.state)) return moduleChildren(value.state, prefix);
    return [[prefix, value.dictItems.size > 0 ? value.dictItems : value.state]];
  }
  return [];
}

function moduleChildren(state: Map<unknown, unknown>, prefix: string): [string, unknown][] {
  const children: [string, unknown][] = [];
  const parameters = state.get('_parameters');
  const buffers = state.get('_buffers');
  const modules = state.get('_modules');
  const nonPersistent = state.get('_non_persistent_buffers_set');
  if (parameters instanceof Map) {
    for (const [name, tensor] of parameters) if (tensor instanceof LoadedTensor) children.push([join(prefix, name), tensor]);
  }
  if (buffers instanceof Map) {
    for (const [name, tensor] of buffers) {
      // Non-persistent buffers are left out of state_dict(), so they are left out here too.
      if (tensor instanceof LoadedTensor && !(nonPersistent instanceof Set && nonPersistent.has(name))) {
        children.push([join(prefix, name), tensor]);
      }
    }
  }
  if (modules instanceof Map) {
    for (const [name, child] of modules) children.push([join(prefix, name), child]);
  }
  return children;
}
