// Loaded with `node --import` into a CLI child by test/cli/startup.test.ts: appends every module URL the
// child's ES module loader resolves to the file named by TRACE_IMPORTS_OUT (one a line).
import { register } from 'node:module';

if (process.env.TRACE_IMPORTS_OUT) {
  const hook = `
    import { appendFileSync } from 'node:fs';
    const out = ${JSON.stringify(process.env.TRACE_IMPORTS_OUT)};
    export async function resolve(specifier, context, next) {
      const r = await next(specifier, context);
      appendFileSync(out, r.url + '\\n');
      return r;
    }`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`);
}
