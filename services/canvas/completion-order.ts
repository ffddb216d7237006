/**
 * Runs `work` on each item of `source`, at most `limit` at a time, and yields the results in the
 * order they complete. Items are started in source order, so work that queues on one connection
 * (a Redis client) also runs in source order. Reading stops while `limit` items are running, which
 * is the backpressure: an HTTP/2 stream's flow control then holds the sender back. Once `stop`
 * aborts, no further item is read; those already started still complete and are yielded.
 *
 * `work` should not reject (turn failures into results); if it does, the generator throws that
 * error after the results already completed.
 */
export async function* completionOrder<T, R>(
  source: AsyncIterable<T>,
  limit: number,
  work: (item: T) => Promise<R>,
  stop?: AbortSignal,
): AsyncGenerator<R> {
  const iterator = source[Symbol.asyncIterator]();
  const done: R[] = [];
  let running = 0;
  let reading = false;
  let ended = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  // The next item, or undefined once `stop` aborts (the pending next() is then abandoned). Not a
  // Promise.race against one promise that settles on abort: every race adds a reaction to that
  // promise, and on a stream that lives for hours (the gateway's WritePixels) those reactions kept
  // every item read until the stream ended.
  const nextOrStop = (): Promise<IteratorResult<T> | undefined> => {
    if (stop?.aborted) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      const onAbort = () => resolve(undefined);
      stop?.addEventListener("abort", onAbort, { once: true });
      iterator.next().then(
        (next) => {
          stop?.removeEventListener("abort", onAbort);
          resolve(next);
        },
        (error: unknown) => {
          stop?.removeEventListener("abort", onAbort);
          reject(error);
        },
      );
    });
  };

  const read = async (): Promise<void> => {
    reading = true;
    try {
      while (!ended && running < limit) {
        const next = await nextOrStop();
        if (next === undefined || next.done) {
          ended = true;
          break;
        }
        running++;
        work(next.value).then(
          (result) => {
            running--;
            done.push(result);
            if (!reading && !ended) void read();
            notify();
          },
          (error: unknown) => {
            running--;
            failure ??= { error };
            ended = true;
            notify();
          },
        );
      }
    } catch (error) {
      failure ??= { error };
      ended = true;
    } finally {
      reading = false;
      notify();
    }
  };

  void read();
  try {
    for (;;) {
      if (done.length > 0) {
        for (const result of done.splice(0)) yield result;
        continue;
      }
      if (failure && running === 0) throw failure.error;
      if (ended && running === 0 && !reading) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    ended = true;
    // Let the source release its resources; a pending next() is simply abandoned.
    void iterator.return?.();
  }
}
