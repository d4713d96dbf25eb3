import { readFileSync } from 'node:fs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadWorkload, parseOverrides, parseProperties, repositoryRoot, WORKLOAD_NAMES } from '../../bench/ycsb/properties.js';
import { resolveSettings } from '../../bench/ycsb/workload.js';

describe('parseProperties', () => {
  it('reads key=value lines, skipping # and ! comments and blank lines', () => {
    const p = parseProperties(
      ['# comment', '! also a comment', '', '   ', 'recordcount=1000', '  operationcount = 50', 'table:users', 'a b'].join('\n'),
    );
    expect(p).toEqual({ recordcount: '1000', operationcount: '50', table: 'users', a: 'b' });
  });

  it('handles CRLF, later keys overriding earlier ones, and Java escapes', () => {
    const p = parseProperties('x=1\r\nx=2\r\nkey\\ with\\ space=v\\tw\\u0041\r\nempty=\r\nnovalue\r\n');
    expect(p).toEqual({ x: '2', 'key with space': 'v\twA', empty: '', novalue: '' });
  });

  it('joins continuation lines and keeps trailing whitespace of values (as Java does)', () => {
    const p = parseProperties('list=a,\\\n    b,\\\n    c\nt=v  \n# x=\\\ny=1');
    expect(p).toEqual({ list: 'a,b,c', t: 'v  ', y: '1' });
  });

  it('treats # inside a value as part of the value', () => {
    expect(parseProperties('k=a#b')).toEqual({ k: 'a#b' });
  });
});

describe('parseOverrides', () => {
  it('splits at the first =', () => {
    expect(parseOverrides(['recordcount=10', 'x=a=b', 'e='])).toEqual({ recordcount: '10', x: 'a=b', e: '' });
  });

  it('throws an actionable error when = is missing', () => {
    expect(() => parseOverrides(['recordcount'])).toThrow(/"recordcount".*-p expects name=value/);
    expect(() => parseOverrides(['=5'])).toThrow(/empty name/);
  });
});

describe('loadWorkload', () => {
  it('finds the bundled workloads by letter or file name', () => {
    const a = loadWorkload('a');
    expect(a.name).toBe('a');
    expect(a.properties.readproportion).toBe('0.5');
    expect(loadWorkload('workloadb').name).toBe('b');
    expect(loadWorkload('workloadb').properties).toEqual(loadWorkload('b').properties);
  });

  it('loads a file by path and names it by its base name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ycsb-props-'));
    const file = join(dir, 'mine.properties');
    writeFileSync(file, 'recordcount=5\n');
    expect(loadWorkload(file)).toEqual({ name: 'mine.properties', properties: { recordcount: '5' } });
  });

  it('names the path and the valid names for an unknown workload', () => {
    expect(() => loadWorkload('workloadz')).toThrow(/workloadz.*a, b, c, d, e, f/s);
    expect(() => loadWorkload('/nonexistent/file')).toThrow(/\/nonexistent\/file/);
  });
});

describe("the workload files are YCSB's", () => {
  // Sizes of YCSB's own files (brianfrankcooper/YCSB workloads/); d and f have CRLF endings there.
  const sizes: Record<string, number> = { a: 3010, b: 3046, c: 3032, d: 3397, e: 3554, f: 3147 };
  for (const w of WORKLOAD_NAMES) {
    it(`workload${w} is byte-for-byte the size of YCSB's and has its header`, () => {
      const text = readFileSync(join(repositoryRoot(), 'bench', 'workloads', `workload${w}`), 'utf8');
      expect(text.length).toBe(sizes[w]);
      expect(text).toContain('# Copyright (c) 2010 Yahoo! Inc. All rights reserved.');
      expect(text).toContain(`# Workload ${w.toUpperCase()}: `);
    });
  }

  const expected: Record<string, Record<string, unknown>> = {
    a: { readProportion: 0.5, updateProportion: 0.5, insertProportion: 0, scanProportion: 0, readModifyWriteProportion: 0, requestDistribution: 'zipfian' },
    b: { readProportion: 0.95, updateProportion: 0.05, insertProportion: 0, scanProportion: 0, readModifyWriteProportion: 0, requestDistribution: 'zipfian' },
    c: { readProportion: 1, updateProportion: 0, insertProportion: 0, scanProportion: 0, readModifyWriteProportion: 0, requestDistribution: 'zipfian' },
    d: { readProportion: 0.95, updateProportion: 0, insertProportion: 0.05, scanProportion: 0, readModifyWriteProportion: 0, requestDistribution: 'latest' },
    e: {
      readProportion: 0,
      updateProportion: 0,
      insertProportion: 0.05,
      scanProportion: 0.95,
      readModifyWriteProportion: 0,
      requestDistribution: 'zipfian',
      maxScanLength: 100,
      minScanLength: 1,
      scanLengthDistribution: 'uniform',
    },
    f: { readProportion: 0.5, updateProportion: 0, insertProportion: 0, scanProportion: 0, readModifyWriteProportion: 0.5, requestDistribution: 'zipfian' },
  };
  for (const w of WORKLOAD_NAMES) {
    it(`workload${w} resolves to YCSB's proportions`, () => {
      const { settings, unknown } = resolveSettings(loadWorkload(w).properties);
      expect(unknown).toEqual([]);
      expect(settings).toMatchObject({
        ...expected[w],
        recordCount: 1000,
        operationCount: 1000,
        readAllFields: true,
        writeAllFields: false,
        fieldCount: 10,
        fieldLength: 100,
        insertOrder: 'hashed',
        table: 'usertable',
      });
    });
  }
});

describe('resolveSettings', () => {
  it("applies CoreWorkload's defaults", () => {
    const { settings, unknown, ignored } = resolveSettings({});
    expect(unknown).toEqual([]);
    expect(ignored).toEqual([]);
    expect(settings).toEqual({
      table: 'usertable',
      recordCount: 1000,
      operationCount: 1000,
      maxExecutionTime: 0,
      fieldCount: 10,
      fieldLength: 100,
      fieldNames: ['field0', 'field1', 'field2', 'field3', 'field4', 'field5', 'field6', 'field7', 'field8', 'field9'],
      readAllFields: true,
      writeAllFields: false,
      readProportion: 0.95,
      updateProportion: 0.05,
      insertProportion: 0,
      scanProportion: 0,
      readModifyWriteProportion: 0,
      requestDistribution: 'uniform',
      insertOrder: 'hashed',
      insertStart: 0,
      insertCount: 1000,
      zeroPadding: 1,
      maxScanLength: 1000,
      minScanLength: 1,
      scanLengthDistribution: 'uniform',
      hotspotDataFraction: 0.2,
      hotspotOpnFraction: 0.8,
      target: 0,
      threadCount: 1,
      consistentReads: false,
      fieldNamePrefix: 'field',
      fieldLengthDistribution: 'constant',
      minFieldLength: 1,
      readAllFieldsByName: false,
      exponentialPercentile: 95,
      exponentialFrac: 0.8571428571,
    });
  });

  it('reads every property it knows, trimming values', () => {
    const { settings } = resolveSettings({
      table: 't',
      recordcount: ' 5000 ',
      operationcount: '7',
      maxexecutiontime: '30',
      threadcount: '4',
      target: '250',
      fieldcount: '3',
      fieldlength: '90',
      fieldnameprefix: 'f',
      readallfields: 'false',
      writeallfields: 'TRUE',
      requestdistribution: 'hotspot',
      insertorder: 'ordered',
      insertstart: '100',
      insertcount: '200',
      zeropadding: '12',
      'dynamodb.consistentReads': 'true',
      hotspotdatafraction: '0.1',
      hotspotopnfraction: '0.9',
    });
    expect(settings).toMatchObject({
      table: 't',
      recordCount: 5000,
      operationCount: 7,
      maxExecutionTime: 30,
      threadCount: 4,
      target: 250,
      fieldNames: ['f0', 'f1', 'f2'],
      fieldLength: 90,
      readAllFields: false,
      writeAllFields: true,
      requestDistribution: 'hotspot',
      insertOrder: 'ordered',
      insertStart: 100,
      insertCount: 200,
      zeroPadding: 12,
      consistentReads: true,
      hotspotDataFraction: 0.1,
      hotspotOpnFraction: 0.9,
    });
  });

  it('defaults insertcount to recordcount - insertstart', () => {
    expect(resolveSettings({ recordcount: '100', insertstart: '30' }).settings.insertCount).toBe(70);
  });

  it('returns unknown property names, and recognised-but-unused YCSB ones apart', () => {
    const { unknown, ignored } = resolveSettings({ readproportoin: '1', measurementtype: 'hdrhistogram', workload: 'site.ycsb.workloads.CoreWorkload' });
    expect(unknown).toEqual(['readproportoin']);
    expect(ignored).toEqual(['measurementtype']);
  });

  it('accepts operationcount=0 only with a maxexecutiontime', () => {
    expect(resolveSettings({ operationcount: '0', maxexecutiontime: '10' }).settings.operationCount).toBe(0);
    expect(() => resolveSettings({ operationcount: '0' })).toThrow(/operationcount=0.*maxexecutiontime/);
  });

  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ fieldlength: '0' }, /fieldlength="0".*integer ≥ 1/],
    [{ fieldcount: 'ten' }, /fieldcount="ten".*integer/],
    [{ recordcount: '1.5' }, /recordcount="1.5".*integer/],
    [{ recordcount: '0' }, /recordcount="0".*≥ 1/],
    [{ readproportion: '-0.1' }, /readproportion="-0.1".*proportion ≥ 0/],
    [{ updateproportion: 'lots' }, /updateproportion="lots"/],
    [{ readproportion: '0', updateproportion: '0' }, /readproportion, updateproportion, insertproportion, scanproportion and readmodifywriteproportion are all 0/],
    [{ requestdistribution: 'gaussian' }, /requestdistribution="gaussian".*uniform, zipfian, latest, hotspot, exponential/],
    [{ requestdistribution: 'sequential' }, /requestdistribution="sequential".*not supported.*uniform, zipfian/],
    [{ insertorder: 'random' }, /insertorder="random".*hashed, ordered/],
    [{ scanlengthdistribution: 'latest' }, /scanlengthdistribution="latest".*uniform, zipfian/],
    [{ fieldlengthdistribution: 'histogram' }, /fieldlengthdistribution="histogram".*not supported.*constant, uniform, zipfian/],
    [{ readallfields: 'yes' }, /readallfields="yes".*true or false/],
    [{ 'dynamodb.consistentReads': '1' }, /dynamodb.consistentReads="1".*true or false/],
    [{ recordcount: '100', insertstart: '50', insertcount: '60' }, /insertstart=50 with insertcount=60.*recordcount \(100\)/],
    [{ minscanlength: '10', maxscanlength: '5' }, /minscanlength=10.*maxscanlength \(5\)/],
    [{ hotspotdatafraction: '1.5' }, /hotspotdatafraction="1.5".*fraction in \[0, 1\]/],
    [{ requestdistribution: 'hotspot', recordcount: '3', hotspotdatafraction: '0.1' }, /hotspotdatafraction=0.1.*hot set/],
    [{ threadcount: '0' }, /threadcount="0".*≥ 1/],
    [{ target: '-5' }, /target="-5"/],
    [{ workload: 'site.ycsb.workloads.TimeSeriesWorkload' }, /workload=.*only site.ycsb.workloads.CoreWorkload/],
    [{ dataintegrity: 'true' }, /dataintegrity=true.*not supported/],
    [{ zeropadding: '-1' }, /zeropadding="-1"/],
  ];
  for (const [props, message] of bad) {
    it(`rejects ${JSON.stringify(props)}`, () => {
      expect(() => resolveSettings(props)).toThrow(message);
    });
  }
});

describe('table capacity properties', () => {
  it('none given: no capacity (the harness runs shardbox with admission off)', () => {
    expect(resolveSettings({}).settings.capacity).toBeUndefined();
  });

  it('billingmode, readcapacity and writecapacity give the table its capacity', () => {
    expect(resolveSettings({ readcapacity: '100', writecapacity: '50' }).settings.capacity)
      .toEqual({ billingMode: 'PROVISIONED', readCapacityUnits: 100, writeCapacityUnits: 50 });
    expect(resolveSettings({ billingmode: 'PAY_PER_REQUEST' }).settings.capacity).toEqual({ billingMode: 'PAY_PER_REQUEST' });
    expect(resolveSettings({ billingmode: 'PAY_PER_REQUEST' }).unknown).toEqual([]);
  });

  it('refuses incomplete or contradictory capacities, naming what to fix', () => {
    expect(() => resolveSettings({ billingmode: 'PROVISIONED', readcapacity: '5' })).toThrow(/needs both readcapacity and writecapacity/);
    expect(() => resolveSettings({ billingmode: 'PAY_PER_REQUEST', writecapacity: '5' })).toThrow(/on-demand table has no provisioned capacity/);
    expect(() => resolveSettings({ billingmode: 'ONDEMAND' })).toThrow(/billingmode/);
    expect(() => resolveSettings({ readcapacity: '0', writecapacity: '5' })).toThrow(/readcapacity/);
  });
});
