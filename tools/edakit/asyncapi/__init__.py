"""AsyncAPI 3.0 in and out of the kit's spec, and pictures of a spec's event flow.

- `export.export_spec(path)`: a spec file -> an AsyncAPI 3.0 document (dict); `check.check_exports(paths)` validates
  exports with AsyncAPI's own parser (scripts/node/validate-asyncapi.mjs, one node process).
- `importer.import_document(doc)`: an AsyncAPI 2.6 or 3.0 document -> spec data plus every part it cannot map,
  each with its JSON-pointer location.
- `diagram`: the event flow as Graphviz dot (svg/png through `dot`) or Mermaid; `site`: one self-contained HTML page.
"""
