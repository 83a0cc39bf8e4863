// Reading a whole HTTP body into memory, but never more than a limit: a peer sending without end (a broken relay,
// a wrong URL pointing at a stream) would otherwise grow the process until it is killed for memory.

/**
 * The whole body, or undefined once it passes `max` bytes. Leaving the loop early ends the iteration, which
 * destroys an undici body (or cancels a fetch body), so the rest is never read.
 */
export async function readCapped(body: AsyncIterable<Uint8Array>, max: number): Promise<Buffer | undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > max) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
