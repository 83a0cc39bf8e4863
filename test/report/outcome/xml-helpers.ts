// Reads JUnit XML with a real parser (fast-xml-parser), the way CI test-report viewers do.
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export interface ParsedCase {
  '@_name': string;
  '@_classname': string;
  '@_time': string;
  failure?: { '@_message': string; '@_type'?: string; '#text'?: string } | '';
  error?: { '@_message': string; '@_type'?: string; '#text'?: string };
  skipped?: { '@_message': string } | '';
  'system-out'?: string;
}

export interface ParsedSuite {
  '@_name': string;
  '@_tests': string;
  '@_failures': string;
  '@_errors': string;
  '@_skipped': string;
  '@_time': string;
  '@_timestamp': string;
  properties: { property: { '@_name': string; '@_value': string }[] };
  testcase: ParsedCase[];
}

export interface ParsedJunit {
  testsuites: {
    '@_name': string;
    '@_tests': string;
    '@_failures': string;
    '@_errors': string;
    '@_skipped': string;
    '@_time': string;
    testsuite: ParsedSuite[];
  };
}

export function parseJunit(xml: string): ParsedJunit {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new Error(`not well-formed XML: ${JSON.stringify(valid)}`);
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    htmlEntities: true,
    parseAttributeValue: false,
    parseTagValue: false,
    trimValues: false,
    isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name),
  });
  return parser.parse(xml) as ParsedJunit;
}

export function caseNamed(suite: ParsedSuite, name: string): ParsedCase {
  const found = suite.testcase.find((c) => c['@_name'] === name);
  if (!found) throw new Error(`no test case "${name}" in ${suite.testcase.map((c) => c['@_name']).join(', ')}`);
  return found;
}
