// Timers owned by one request, so a closed connection or a closing server cancels them all at once.

export class RequestTimers {
  private readonly pending = new Set<NodeJS.Timeout>();
  private cancelled = false;

  after(ms: number, fn: () => void): void {
    if (this.cancelled) return;
    const timer = setTimeout(
      () => {
        this.pending.delete(timer);
        fn();
      },
      Math.max(0, ms),
    );
    this.pending.add(timer);
  }

  cancel(): void {
    this.cancelled = true;
    for (const timer of this.pending) clearTimeout(timer);
    this.pending.clear();
  }
}
