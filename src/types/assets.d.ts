// Files imported `with { type: "file" }` resolve to their path on disk (inside the compiled binary).
declare module "*/standalone.js" {
  const path: string;
  export default path;
}
