/** listModels: fnmatch globs (one or several), exclude, and bad arguments; checked against a filter written out by hand. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { globRegExp, listModels } from '../../src/models/registry.js';

describe('listModels', () => {
  const all = listModels();

  it('matches `*`, `?` and sets as fnmatch does, ignoring case', () => {
    assert.deepEqual(
      listModels('SASA_*'),
      all.filter((n) => n.startsWith('sasa_')),
    );
    assert.deepEqual(listModels('resnet??'), ['resnet26', 'resnet38', 'resnet50']);
    assert.deepEqual(listModels('resnet[23]?'), ['resnet26', 'resnet38']);
    assert.deepEqual(listModels('resnet[!23]?'), ['resnet50']);
    assert.deepEqual(listModels('sasa_resnet26.'), []);
  });

  it('takes several patterns (any matches) and excludes', () => {
    assert.deepEqual(listModels(['resnet50', 'sasa_resnet50']), ['resnet50', 'sasa_resnet50']);
    assert.deepEqual(listModels('sasa_*', { exclude: '*_demo' }), [
      'sasa_resnet26_convstem',
      'sasa_resnet26',
      'sasa_resnet38_convstem',
      'sasa_resnet38',
      'sasa_resnet50_convstem',
      'sasa_resnet50',
    ]);
    assert.deepEqual(listModels(undefined, { exclude: ['sasa_*', '*_demo'] }), ['resnet26', 'resnet38', 'resnet50']);
    assert.deepEqual(listModels([]), all);
  });

  it('escapes regular-expression characters', () => {
    assert.equal(globRegExp('a.b+(c)').test('a.b+(c)'), true);
    assert.equal(globRegExp('a.b').test('axb'), false);
  });

  it('refuses a pattern that is not a string, naming the option', () => {
    assert.throws(() => listModels(3 as unknown as string), /listModels: pattern must be a glob string/);
    assert.throws(() => listModels('*', { exclude: [1] as unknown as string[] }), /listModels: exclude must be/);
  });
});
