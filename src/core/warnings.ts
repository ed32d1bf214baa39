/**
 * Warnings from the library (a missing CUDA provider, …): a Node process warning by default, so a program
 * that uses ganvec sees them as it sees any other; the CLI prints them as one plain line instead.
 */
export type WarningHandler = (message: string) => void;

const processWarning: WarningHandler = (message) => process.emitWarning(message, 'GanvecWarning');
let handler = processWarning;

/** Where warnings go from now on; without an argument, back to Node process warnings. */
export function setWarningHandler(next: WarningHandler = processWarning): void {
  handler = next;
}

export function warn(message: string): void {
  handler(message);
}
