/** A build request that cannot be satisfied: bad argument, bad input file, or no room. */
export class BuildError extends Error {
  override readonly name = 'BuildError';
}
