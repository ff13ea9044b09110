// Refusals of requests past berth's [limits] that more than one layer raises: bodies and uploads too large.
import { AppError } from "../errors.ts";

/** 413: a request body (or an upload) is larger than the limit named in the message. */
export class PayloadTooLarge extends AppError {
  constructor(message: string, limit: number) {
    super(413, "payload_too_large", message, { details: { limit_bytes: limit } });
  }
}
