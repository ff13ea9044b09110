// `berth hash-password`: reads a password on stdin and prints its argon2id hash for [auth] users.
import { BadRequest } from "../errors.ts";

/** The hash of a password as read from stdin: one trailing newline is the terminal's, not the password's. */
export async function hashPassword(input: string): Promise<string> {
  const password = input.replace(/\r?\n$/, "");
  if (password.length === 0) throw new BadRequest("hash-password: the password on stdin is empty");
  return await Bun.password.hash(password, { algorithm: "argon2id" });
}

/** Never takes the password as an argument: arguments are visible to every user in the process list. */
export async function runHashPassword(stdin: Blob = Bun.stdin): Promise<number> {
  console.log(await hashPassword(await stdin.text()));
  return 0;
}
