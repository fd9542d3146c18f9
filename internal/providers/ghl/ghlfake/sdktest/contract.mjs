// Contract test: HighLevel's official SDK (@gohighlevel/api-client) drives
// the crmgate GHL fake exactly as an integration would, through the SDK's
// own service methods, and checks every answer has the shape the SDK's
// types (generated from HighLevel's OpenAPI specs) describe.
//
// Usage: GHL_FAKE_URL=http://127.0.0.1:PORT GHL_FAKE_TOKEN=... \
//        GHL_FAKE_LOCATION_ID=... node contract.mjs
// Exits non-zero when a check fails. Run by sdk_contract_test.go.

import sdk from '@gohighlevel/api-client';

const { HighLevel, GHLError } = sdk;

const BASE_URL = process.env.GHL_FAKE_URL;
const TOKEN = process.env.GHL_FAKE_TOKEN;
const LOC = process.env.GHL_FAKE_LOCATION_ID;
if (!BASE_URL || !TOKEN || !LOC) {
  console.error('set GHL_FAKE_URL, GHL_FAKE_TOKEN and GHL_FAKE_LOCATION_ID');
  process.exit(2);
}

/** A client of the SDK pointed at the fake. */
function client(token) {
  const ghl = new HighLevel({ privateIntegrationToken: token, apiVersion: '2021-07-28', logLevel: 'none' });
  ghl.getHttpClient().defaults.baseURL = BASE_URL;
  return ghl;
}

const ghl = client(TOKEN);

// Every successful answer must carry HighLevel's rate-limit headers (the
// SDK's own interceptor turns failures into GHLError before ours sees them;
// the Go tests check the headers of error answers).
const RATE_HEADERS = [
  'x-ratelimit-max', 'x-ratelimit-remaining', 'x-ratelimit-interval-milliseconds',
  'x-ratelimit-limit-daily', 'x-ratelimit-daily-remaining',
];
let answers = 0;
const missingHeaders = [];
function checkHeaders(res) {
  answers++;
  for (const h of RATE_HEADERS) {
    if (res?.headers?.[h] === undefined) missingHeaders.push(`${res?.config?.method} ${res?.config?.url}: ${h}`);
  }
}
ghl.addResponseInterceptor({
  onFulfilled: (res) => { checkHeaders(res); return res; },
});

// ---------------------------------------------------------------------------
// Checks

const results = [];

async function check(name, fn) {
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`ok   ${name}`);
  } catch (err) {
    const detail = err instanceof GHLError
      ? `${err.message} (status ${err.statusCode}) ${JSON.stringify(err.response)}`
      : (err?.stack || String(err));
    results.push({ name, ok: false, detail });
    console.log(`FAIL ${name}\n     ${detail}`);
  }
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

function typeOf(v) {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v;
}

/**
 * shape asserts obj has the keys of spec with the given types; a type
 * ending in '?' is optional (absent is fine). 'any' accepts any type.
 */
function shape(obj, spec, where) {
  assert(typeOf(obj) === 'object', `${where}: expected an object, got ${JSON.stringify(obj)}`);
  for (const [key, want] of Object.entries(spec)) {
    const optional = want.endsWith('?');
    const type = optional ? want.slice(0, -1) : want;
    if (!(key in obj) || obj[key] === undefined) {
      assert(optional, `${where}: missing ${key} in ${JSON.stringify(obj)}`);
      continue;
    }
    if (type !== 'any') {
      assert(typeOf(obj[key]) === type, `${where}.${key}: want ${type}, got ${typeOf(obj[key])} (${JSON.stringify(obj[key])})`);
    }
  }
}

// Shapes from the SDK's models (required and optional as there).
const ICustomObjectSchema = {
  id: 'string', standard: 'boolean', key: 'string', labels: 'object', description: 'string?',
  locationId: 'string', primaryDisplayProperty: 'string', dateAdded: 'string', dateUpdated: 'string', type: 'any?',
};
const ICustomField = {
  locationId: 'string', name: 'string?', description: 'string?', placeholder: 'string?', showInForms: 'boolean',
  options: 'array?', acceptedFormats: 'string?', id: 'string', objectKey: 'string', dataType: 'string',
  parentId: 'string', fieldKey: 'string', allowCustomOption: 'boolean?', maxFileLimit: 'number?',
  dateAdded: 'string', dateUpdated: 'string',
};
const ICustomFieldFolder = { id: 'string', objectKey: 'string', locationId: 'string', name: 'string' };
// IRecordSchema types properties as "string" but shows (and HighLevel sends) an object.
const IRecordSchema = {
  id: 'string', owner: 'array', followers: 'array', properties: 'object', dateAdded: 'string', dateUpdated: 'string',
};
const RecordResponseDTO = {
  id: 'string', owner: 'array', followers: 'array', properties: 'object', createdAt: 'string', updatedAt: 'string',
  locationId: 'string', objectId: 'string', objectKey: 'string', createdBy: 'object', lastUpdatedBy: 'object',
  searchAfter: 'array',
};
const CreatedByResponseDTO = { channel: 'string', createdAt: 'string', source: 'string', sourceId: 'string' };
const GetPostSuccessfulResponseDto = {
  locationId: 'string', id: 'string', key: 'string', firstObjectLabel: 'any', firstObjectKey: 'any',
  secondObjectLabel: 'any', secondObjectKey: 'any', associationType: 'any',
};
// The relation entity (the spec names GetPostSuccessfulResponseDto; HighLevel answers a relation).
const Relation = {
  id: 'string', associationId: 'string', firstObjectKey: 'string', firstRecordId: 'string',
  secondObjectKey: 'string', secondRecordId: 'string', locationId: 'string',
};

async function expectError(promise, status, messagePart, where) {
  try {
    await promise;
  } catch (err) {
    assert(err instanceof GHLError, `${where}: not a GHLError: ${err}`);
    assert(err.statusCode === status, `${where}: status ${err.statusCode}, want ${status}: ${JSON.stringify(err.response)}`);
    assert(err.response?.statusCode === status, `${where}: body statusCode ${JSON.stringify(err.response)}`);
    if (messagePart) {
      const msg = JSON.stringify(err.response?.message);
      assert(msg.includes(messagePart), `${where}: message ${msg} lacks ${JSON.stringify(messagePart)}`);
    }
    return err;
  }
  throw new Error(`${where}: expected HTTP ${status}, the call succeeded`);
}

// ---------------------------------------------------------------------------
// The run

const KEY = 'custom_objects.sdk_pet';
const st = {};

await check('objects.getObjectByLocationId lists the standard objects', async () => {
  const res = await ghl.objects.getObjectByLocationId({ locationId: LOC });
  shape(res, { objects: 'array' }, 'CustomObjectListResponseDTO');
  res.objects.forEach((o, i) => shape(o, ICustomObjectSchema, `objects[${i}]`));
  const keys = res.objects.map((o) => o.key);
  for (const k of ['contact', 'opportunity', 'business']) assert(keys.includes(k), `missing ${k} in ${keys}`);
  assert(res.objects.every((o) => !['contact', 'opportunity', 'business'].includes(o.key) || o.standard === true), 'standard flag');
});

await check('objects.createCustomObjectSchema answers 201 {object}', async () => {
  const res = await ghl.objects.createCustomObjectSchema({
    labels: { singular: 'Pet', plural: 'Pets' },
    key: KEY,
    description: 'Pets made by the SDK contract test',
    locationId: LOC,
    primaryDisplayPropertyDetails: { key: `${KEY}.name`, name: 'Name', dataType: 'TEXT' },
  });
  shape(res, { object: 'object' }, 'CustomObjectResponseDTO');
  shape(res.object, ICustomObjectSchema, 'object');
  assert(res.object.key === KEY && res.object.standard === false, JSON.stringify(res.object));
  assert(res.object.primaryDisplayProperty === `${KEY}.name`, res.object.primaryDisplayProperty);
  assert(res.object.labels.singular === 'Pet' && res.object.labels.plural === 'Pets', 'labels');
  st.objectId = res.object.id;
});

await check('objects.getObjectSchemaByKey with fetchProperties', async () => {
  const res = await ghl.objects.getObjectSchemaByKey({ key: KEY, locationId: LOC, fetchProperties: 'true' });
  shape(res, { object: 'object', cache: 'boolean', fields: 'array' }, 'CustomObjectByIdResponseDTO');
  shape(res.object, ICustomObjectSchema, 'object');
  res.fields.forEach((f, i) => shape(f, ICustomField, `fields[${i}]`));
  assert(res.object.id === st.objectId, 'same object');
  assert(res.fields.some((f) => f.fieldKey === `${KEY}.name` && f.dataType === 'TEXT'), 'primary field created');
});

await check('customFields.getCustomFieldsByObjectKey', async () => {
  const res = await ghl.customFields.getCustomFieldsByObjectKey({ objectKey: KEY, locationId: LOC });
  shape(res, { fields: 'array', folders: 'array' }, 'CustomFieldsResponseDTO');
  res.fields.forEach((f, i) => shape(f, ICustomField, `fields[${i}]`));
  res.folders.forEach((f, i) => shape(f, ICustomFieldFolder, `folders[${i}]`));
  assert(res.folders.length >= 1, 'a default folder');
  st.folderId = res.folders[0].id;
});

await check('customFields.createCustomField (SINGLE_OPTIONS, NUMERICAL) answers 201 {field}', async () => {
  const species = await ghl.customFields.createCustomField({
    locationId: LOC, name: 'Species', description: 'kind of pet', placeholder: 'pick one', showInForms: true,
    options: [{ key: 'dog', label: 'Dog' }, { key: 'cat', label: 'Cat' }],
    dataType: 'SINGLE_OPTIONS', fieldKey: `${KEY}.species`, objectKey: KEY, parentId: st.folderId,
  });
  shape(species, { field: 'object' }, 'CustomFieldSuccessfulResponseDto');
  shape(species.field, ICustomField, 'field');
  assert(species.field.fieldKey === `${KEY}.species` && species.field.options.length === 2, JSON.stringify(species.field));
  st.speciesId = species.field.id;
  const age = await ghl.customFields.createCustomField({
    locationId: LOC, name: 'Age', showInForms: true, dataType: 'NUMERICAL',
    fieldKey: `${KEY}.age`, objectKey: KEY, parentId: st.folderId,
  });
  shape(age.field, ICustomField, 'field');
  st.ageId = age.field.id;
});

await check('customFields.getCustomFieldById', async () => {
  const res = await ghl.customFields.getCustomFieldById({ id: st.speciesId });
  shape(res, { field: 'object' }, 'CustomFieldSuccessfulResponseDto');
  shape(res.field, ICustomField, 'field');
  assert(res.field.id === st.speciesId, 'same field');
});

await check('customFields.updateCustomField', async () => {
  const res = await ghl.customFields.updateCustomField({ id: st.speciesId }, {
    locationId: LOC, name: 'Kind', showInForms: true,
    options: [{ key: 'dog', label: 'Dog' }, { key: 'cat', label: 'Cat' }, { key: 'bird', label: 'Bird' }],
  });
  shape(res.field, ICustomField, 'field');
  assert(res.field.name === 'Kind' && res.field.options.length === 3 && res.field.dataType === 'SINGLE_OPTIONS', JSON.stringify(res.field));
});

await check('customFields folders: create, update, delete', async () => {
  const created = await ghl.customFields.createCustomFieldFolder({ objectKey: KEY, name: 'Health', locationId: LOC });
  shape(created, ICustomFieldFolder, 'ICustomFieldFolder');
  const updated = await ghl.customFields.updateCustomFieldFolder({ id: created.id }, { name: 'Medical', locationId: LOC });
  shape(updated, ICustomFieldFolder, 'ICustomFieldFolder');
  assert(updated.name === 'Medical', 'renamed');
  const deleted = await ghl.customFields.deleteCustomFieldFolder({ id: created.id, locationId: LOC });
  shape(deleted, { succeded: 'boolean', id: 'string', key: 'string' }, 'CustomFolderDeleteResponseDto');
  assert(deleted.succeded === true && deleted.id === created.id, JSON.stringify(deleted));
});

await check('objects.updateCustomObject', async () => {
  const res = await ghl.objects.updateCustomObject({ key: KEY }, {
    labels: { singular: 'Animal', plural: 'Animals' }, description: 'renamed', locationId: LOC,
    searchableProperties: [`${KEY}.name`, `${KEY}.species`],
  });
  shape(res, { object: 'object' }, 'CustomObjectResponseDTO');
  shape(res.object, ICustomObjectSchema, 'object');
  assert(res.object.labels.singular === 'Animal' && res.object.description === 'renamed', JSON.stringify(res.object));
});

await check('objects.createObjectRecord answers 201 {record}', async () => {
  for (const [name, species, age] of [['Rex', 'dog', 3], ['Tom', 'cat', 5]]) {
    const res = await ghl.objects.createObjectRecord({ schemaKey: KEY }, {
      locationId: LOC, properties: { name, species, age }, owner: ['sx6wyHhbFdRXh302Lunr'], followers: [],
    });
    shape(res, { record: 'object' }, 'RecordByIdResponseDTO');
    shape(res.record, IRecordSchema, 'record');
    shape(res.record.createdBy, CreatedByResponseDTO, 'record.createdBy');
    assert(res.record.properties.name === name && res.record.properties.age === age, JSON.stringify(res.record));
    (st.records ||= []).push(res.record.id);
  }
});

await check('objects.getRecordById', async () => {
  const res = await ghl.objects.getRecordById({ schemaKey: KEY, id: st.records[0] });
  shape(res.record, IRecordSchema, 'record');
  assert(res.record.id === st.records[0] && res.record.owner[0] === 'sx6wyHhbFdRXh302Lunr', JSON.stringify(res.record));
});

await check('objects.updateObjectRecord merges properties', async () => {
  const res = await ghl.objects.updateObjectRecord({ schemaKey: KEY, id: st.records[0], locationId: LOC }, {
    properties: { age: 4 },
  });
  shape(res.record, IRecordSchema, 'record');
  assert(res.record.properties.age === 4 && res.record.properties.name === 'Rex', JSON.stringify(res.record.properties));
});

await check('objects.searchObjectRecords pages with searchAfter', async () => {
  const first = await ghl.objects.searchObjectRecords({ schemaKey: KEY }, {
    locationId: LOC, page: 1, pageLimit: 1, query: '', searchAfter: [],
  });
  shape(first, { records: 'array', total: 'number' }, 'SearchRecordResponseDTO');
  assert(first.total === 2 && first.records.length === 1, JSON.stringify(first));
  shape(first.records[0], RecordResponseDTO, 'records[0]');
  const after = first.records[0].searchAfter.map(String); // the spec types the request's searchAfter as string[]
  const second = await ghl.objects.searchObjectRecords({ schemaKey: KEY }, {
    locationId: LOC, page: 1, pageLimit: 1, query: '', searchAfter: after,
  });
  assert(second.records.length === 1 && second.records[0].id !== first.records[0].id, JSON.stringify(second));
  const third = await ghl.objects.searchObjectRecords({ schemaKey: KEY }, {
    locationId: LOC, page: 1, pageLimit: 1, query: '', searchAfter: second.records[0].searchAfter.map(String),
  });
  assert(third.records.length === 0 && third.total === 2, JSON.stringify(third));
  const found = await ghl.objects.searchObjectRecords({ schemaKey: KEY }, {
    locationId: LOC, page: 1, pageLimit: 10, query: 'tom', searchAfter: [],
  });
  assert(found.total === 1 && found.records[0].properties.name === 'Tom', JSON.stringify(found));
});

await check('associations.createAssociation answers 201', async () => {
  const res = await ghl.associations.createAssociation({
    locationId: LOC, key: 'sdk_pet_owner', firstObjectLabel: 'pet', firstObjectKey: KEY,
    secondObjectLabel: 'owner', secondObjectKey: 'contact',
  });
  shape(res, GetPostSuccessfulResponseDto, 'GetPostSuccessfulResponseDto');
  assert(res.associationType === 'USER_DEFINED' && res.key === 'sdk_pet_owner', JSON.stringify(res));
  st.assocId = res.id;
});

await check('associations.findAssociations', async () => {
  const res = await ghl.associations.findAssociations({ locationId: LOC, skip: 0, limit: 10 });
  shape(res, { associations: 'array', total: 'number' }, 'associations list');
  res.associations.forEach((a, i) => shape(a, GetPostSuccessfulResponseDto, `associations[${i}]`));
  assert(res.associations.some((a) => a.id === st.assocId), 'created association listed');
});

await check('associations.getAssociationByID, getAssociationKeyByKeyName, getAssociationByObjectKeys', async () => {
  const byId = await ghl.associations.getAssociationByID({ associationId: st.assocId });
  shape(byId, GetPostSuccessfulResponseDto, 'by id');
  const byKey = await ghl.associations.getAssociationKeyByKeyName({ keyName: 'sdk_pet_owner', locationId: LOC });
  shape(byKey, GetPostSuccessfulResponseDto, 'by key');
  assert(byKey.id === st.assocId, 'by key id');
  const byObject = await ghl.associations.getAssociationByObjectKeys({ objectKey: KEY, locationId: LOC });
  shape(byObject, { associations: 'array' }, 'by object key');
  assert(byObject.associations.length === 1 && byObject.associations[0].id === st.assocId, JSON.stringify(byObject));
});

await check('associations.updateAssociation', async () => {
  const res = await ghl.associations.updateAssociation({ associationId: st.assocId }, {
    firstObjectLabel: 'animal', secondObjectLabel: 'human',
  });
  shape(res, GetPostSuccessfulResponseDto, 'updated');
  assert(res.firstObjectLabel === 'animal' && res.secondObjectLabel === 'human', JSON.stringify(res));
});

await check('associations.createRelation answers 201; a duplicate answers 400', async () => {
  const body = { locationId: LOC, associationId: st.assocId, firstRecordId: st.records[0], secondRecordId: 'emqfhnG3g9D9chy9inTz' };
  const res = await ghl.associations.createRelation(body);
  shape(res, Relation, 'relation');
  st.relationId = res.id;
  await expectError(ghl.associations.createRelation(body), 400, 'duplicate relation', 'duplicate relation');
});

await check('associations.getRelationsByRecordId (associationIds filter)', async () => {
  const res = await ghl.associations.getRelationsByRecordId({
    recordId: st.records[0], locationId: LOC, skip: 0, limit: 10, associationIds: [st.assocId],
  });
  shape(res, { relations: 'array', total: 'number' }, 'relations list');
  assert(res.total === 1 && res.relations[0].id === st.relationId, JSON.stringify(res));
  shape(res.relations[0], Relation, 'relations[0]');
  const none = await ghl.associations.getRelationsByRecordId({
    recordId: st.records[0], locationId: LOC, skip: 0, limit: 10, associationIds: ['000000000000000000000000'],
  });
  assert(none.total === 0, JSON.stringify(none));
});

await check('associations.deleteRelation', async () => {
  const res = await ghl.associations.deleteRelation({ relationId: st.relationId, locationId: LOC });
  shape(res, Relation, 'deleted relation');
  const after = await ghl.associations.getRelationsByRecordId({ recordId: st.records[0], locationId: LOC, skip: 0, limit: 10 });
  assert(after.total === 0, JSON.stringify(after));
});

await check('objects.deleteObjectRecord', async () => {
  const res = await ghl.objects.deleteObjectRecord({ schemaKey: KEY, id: st.records[1] });
  shape(res, { id: 'string', success: 'boolean' }, 'ObjectRecordDeleteResponseDTO');
  assert(res.id === st.records[1] && res.success === true, JSON.stringify(res));
  await expectError(ghl.objects.getRecordById({ schemaKey: KEY, id: st.records[1] }), 404, 'not found', 'deleted record');
});

await check('customFields.deleteCustomField answers {succeded, id, key}', async () => {
  const res = await ghl.customFields.deleteCustomField({ id: st.ageId });
  shape(res, { succeded: 'boolean', id: 'string', key: 'string' }, 'CustomFolderDeleteResponseDto');
  assert(res.succeded === true && res.id === st.ageId && res.key === `${KEY}.age`, JSON.stringify(res));
});

await check('associations.deleteAssociation', async () => {
  const res = await ghl.associations.deleteAssociation({ associationId: st.assocId });
  shape(res, { deleted: 'boolean', id: 'string', message: 'string' }, 'DeleteAssociationsResponseDTO');
  assert(res.deleted === true && res.id === st.assocId, JSON.stringify(res));
});

await check('error answers reach the SDK as GHLError with HighLevel bodies', async () => {
  const bad = await expectError(ghl.objects.createObjectRecord({ schemaKey: KEY }, {
    locationId: LOC, properties: { name: 'X', colour: 'red' },
  }), 400, 'colour', 'unknown property');
  assert(Object.keys(bad.response).sort().join() === 'message,statusCode', JSON.stringify(bad.response));
  const unproc = await expectError(ghl.objects.searchObjectRecords({ schemaKey: KEY }, {
    locationId: LOC, page: 1, pageLimit: 500, query: '', searchAfter: [],
  }), 422, 'pageLimit must not be greater than 100', 'pageLimit');
  assert(unproc.response.error === 'Unprocessable Entity' && Array.isArray(unproc.response.message), JSON.stringify(unproc.response));
  await expectError(ghl.objects.getObjectByLocationId({ locationId: 'someOtherLocation' }), 403, 'does not have access', 'other location');
  const unauth = await expectError(client('not-a-token').objects.getObjectByLocationId({ locationId: LOC }), 401,
    'Invalid token: access token is invalid', 'bad token');
  assert(unauth.response.error === 'Unauthorized', JSON.stringify(unauth.response));
});

await check('every successful answer carried the rate-limit headers', async () => {
  assert(answers > 20, `only ${answers} answers seen`);
  assert(missingHeaders.length === 0, missingHeaders.join('; '));
});

// ---------------------------------------------------------------------------

const failed = results.filter((r) => !r.ok);
console.log(`\nSDK contract summary: ${results.length - failed.length} of ${results.length} checks passed` +
  (failed.length ? `; failing: ${failed.map((r) => r.name).join(' | ')}` : ''));
process.exit(failed.length ? 1 : 0);
