// Shell scripts imported `with { type: "text" }` are their text (embedded in the compiled binary).
declare module "*.sh" {
  const text: string;
  export default text;
}
