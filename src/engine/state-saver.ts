// Keeps state.json following the engine without stopping its event loop: one write at a time, each of the
// newest snapshot (built when its write starts), and requests made during a write fold into one more write.
import type { RolloutSnapshot } from './types.js';
import { errorText } from '../core/errors.js';

export interface StateSaverOptions {
  build: () => RolloutSnapshot;
  write: (snapshot: RolloutSnapshot) => Promise<void> | void;
  /** Called once per distinct failure (a full disk is reported once, not every second). */
  onError: (message: string) => void;
}

export class StateSaver {
  private writing: Promise<void> | undefined;
  private again = false;
  private lastFailure: string | undefined;
  private everWritten = false;

  constructor(private readonly options: StateSaverOptions) {}

  /** Asks for state.json to show the engine as it is now; returns at once. */
  request(): void {
    if (this.writing) {
      this.again = true;
      return;
    }
    this.writing = this.writeUntilCurrent();
  }

  /** Why the latest write failed, while it has not succeeded since. */
  get failure(): string | undefined {
    return this.lastFailure;
  }

  /** Whether any write has succeeded: until then there is no state.json to recover from. */
  get written(): boolean {
    return this.everWritten;
  }

  /** Resolves once every request made so far is on disk (or has failed and been reported). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async writeUntilCurrent(): Promise<void> {
    try {
      do {
        this.again = false;
        await this.writeOnce();
      } while (this.again);
    } finally {
      this.writing = undefined;
    }
  }

  private async writeOnce(): Promise<void> {
    try {
      await this.options.write(this.options.build());
      this.lastFailure = undefined;
      this.everWritten = true;
    } catch (error) {
      const message = errorText(error);
      if (message === this.lastFailure) return;
      this.lastFailure = message;
      this.options.onError(message);
    }
  }
}
