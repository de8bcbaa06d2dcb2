#!/usr/bin/env bash
# Writes Sources/AttributionServer/BuiltInTemplates.swift from templates/*.mustache, so that the binary carries
# the templates it ships. Run it after editing a template; `swift test` fails while the two disagree.
set -euo pipefail
cd "$(dirname "$0")/.."
out=Sources/AttributionServer/BuiltInTemplates.swift
{
  echo '// The templates the service ships, compiled into the binary so that it runs from any folder.'
  echo '// Generated from templates/*.mustache by `bash templates/embed.sh`; a test checks that the two agree.'
  echo
  echo '/// The shipped Mustache templates by name (the file name without `.mustache`).'
  echo 'enum BuiltInTemplates {'
  echo '    static let all: [String: String] = ['
  for file in templates/*.mustache; do
    if grep -q '"""#' "$file"; then echo "$file holds \"\"\"#, which the embedding cannot carry" >&2; exit 1; fi
    name=$(basename "$file" .mustache)
    printf '        "%s": #"""\n' "$name"
    cat "$file"
    printf '\n"""#,\n'
  done
  echo '    ]'
  echo '}'
} > "$out"
