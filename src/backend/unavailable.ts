// The error of a backend that cannot run here (its own module: the webgpu kernels raise it too).
import { InputError } from '../errors.js';

/** A backend that is not installed or cannot start here; `exitCode` 2 like other bad input. */
export class BackendUnavailable extends InputError {
  override name = 'BackendUnavailable';
  /** A few words for `auto`'s report (the message says how to fix it). */
  readonly brief: string;
  constructor(message: string, brief?: string) {
    super(message);
    this.brief = brief ?? message.replace(/^backend \w+:? /, '');
  }
}
