import { PyObject } from './pickle.js';
import { LoadedTensor } from './storage.js';

/**
 * Flattens an unpickled checkpoint into dotted tensor names, the names `state_dict()` would give:
 * nested dicts and lists contribute their keys (`g_ema.convs.0.conv.weight`, `latent_avg`), eager
 * nn.Module objects (pickled whole, or NVIDIA persistent objects) contribute their parameters, persistent
 * buffers and submodules, and TorchScript modules (whose state is their attributes) every tensor attribute
 * and submodule. Other values (numbers, strings, hooks, training flags) are not tensors and are skipped.
 */
export function flattenTensors(root: unknown): Map<string, LoadedTensor> {
  const out = new Map<string, LoadedTensor>();
  visit(root, '', out, new Set());
  return out;
}

/** True for the state of an eager torch.nn.Module (its `__dict__`). */
export function isModuleState(state: unknown): state is Map<unknown, unknown> {
  return state instanceof Map && (state.has('_parameters') || state.has('_modules'));
}

function join(prefix: string, key: unknown): string {
  return prefix === '' ? String(key) : `${prefix}.${String(key)}`;
}

function visit(value: unknown, prefix: string, out: Map<string, LoadedTensor>, path: Set<unknown>): void {
  if (value instanceof LoadedTensor) {
    out.set(prefix, value);
    return;
  }
  if (value === null || typeof value !== 'object' || path.has(value)) return;
  path.add(value);
  if (value instanceof Map) {
    for (const [key, item] of value) visit(item, join(prefix, key), out, path);
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => visit(item, join(prefix, index), out, path));
  } else if (value instanceof PyObject) {
    if (isModuleState(value.state)) visitModule(value.state, prefix, out, path);
    else if (value.dictItems.size > 0) visit(value.dictItems, prefix, out, path);
    else visit(value.state, prefix, out, path);
  }
  path.delete(value);
}

function visitModule(state: Map<unknown, unknown>, prefix: string, out: Map<string, LoadedTensor>, path: Set<unknown>): void {
  const parameters = state.get('_parameters');
  const buffers = state.get('_buffers');
  const modules = state.get('_modules');
  const nonPersistent = state.get('_non_persistent_buffers_set');
  if (parameters instanceof Map) {
    for (const [name, tensor] of parameters) if (tensor instanceof LoadedTensor) out.set(join(prefix, name), tensor);
  }
  if (buffers instanceof Map) {
    for (const [name, tensor] of buffers) {
      // Non-persistent buffers are left out of state_dict(), so they are left out here too.
      if (tensor instanceof LoadedTensor && !(nonPersistent instanceof Set && nonPersistent.has(name))) {
        out.set(join(prefix, name), tensor);
      }
    }
  }
  if (modules instanceof Map) {
    for (const [name, child] of modules) visit(child, join(prefix, name), out, path);
  }
}
