// Validates AsyncAPI documents with AsyncAPI's own parser (@asyncapi/parser, Avro payloads through
// @asyncapi/avro-schema-parser), all files in this one process: `node validate-asyncapi.mjs FILE...`.
// Prints one JSON line per diagnostic ({file, severity, code, message, path}; severity 0 is an error) and exits 0;
// a file that cannot be read is reported as a diagnostic too.
import { Parser, fromFile } from '@asyncapi/parser';
import { AvroSchemaParser } from '@asyncapi/avro-schema-parser';

const parser = new Parser({ schemaParsers: [AvroSchemaParser()] });
for (const file of process.argv.slice(2)) {
  try {
    const { diagnostics } = await fromFile(parser, file).parse();
    for (const d of diagnostics) {
      console.log(JSON.stringify({ file, severity: d.severity, code: d.code, message: d.message, path: d.path }));
    }
  } catch (error) {
    console.log(JSON.stringify({ file, severity: 0, code: 'unreadable', message: String(error), path: [] }));
  }
}
