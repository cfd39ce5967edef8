// One operation at a time per key (a workspace) inside one worker: an activity retried while its
// predecessor still runs must wait for it rather than start or remove the same workspace twice.

export function perKeyQueue(): <T>(key: string, fn: () => Promise<T>) => Promise<T> {
  const queues = new Map<string, Promise<unknown>>();
  return (key, fn) => {
    const next = (queues.get(key) ?? Promise.resolve()).catch(() => undefined).then(fn);
    queues.set(key, next);
    const cleanup = () => {
      if (queues.get(key) === next) queues.delete(key);
    };
    next.then(cleanup, cleanup);
    return next;
  };
}
