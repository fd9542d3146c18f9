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

// ---------------------------------------------------------------------------
// Standard CRM entities: contacts (+ notes), opportunities, businesses, users.
// The Go test seeds the location with SeedCRM (2 users, 5 businesses, 25
// contacts, the "Sales" pipeline, 10 opportunities).

const Contact = {
  id: 'string', locationId: 'string', firstName: 'string?', lastName: 'string?', name: 'string?',
  email: 'string?', phone: 'string?', tags: 'array', customFields: 'array', dateAdded: 'string',
  dateUpdated: 'string', type: 'string', dnd: 'boolean', businessId: 'string?', assignedTo: 'string?',
};
const Note = { id: 'string', body: 'string', dateAdded: 'string', contactId: 'string', userId: 'string?' };
const Opportunity = {
  id: 'string', name: 'string', monetaryValue: 'number', pipelineId: 'string', pipelineStageId: 'string',
  status: 'string', createdAt: 'string', updatedAt: 'string', contactId: 'string', locationId: 'string',
  lastStatusChangeAt: 'string', contact: 'object?', customFields: 'array',
};
const SearchMeta = { total: 'number', nextPageUrl: 'string?', startAfterId: 'string?', startAfter: 'number?', currentPage: 'number?' };
const Business = { id: 'string', name: 'string', locationId: 'string', createdAt: 'string', updatedAt: 'string' };
const User = { id: 'string', name: 'string', firstName: 'string', lastName: 'string', email: 'string', roles: 'object' };

const crm = {};

await check('users.getUserByLocation and getUser', async () => {
  const res = await ghl.users.getUserByLocation({ locationId: LOC });
  assert(Array.isArray(res.users) && res.users.length === 2, JSON.stringify(res));
  res.users.forEach((u, i) => shape(u, User, `users[${i}]`));
  crm.userId = res.users[0].id;
  const one = await ghl.users.getUser({ userId: crm.userId });
  shape(one, User, 'UserSuccessfulResponseDto');
  assert(one.id === crm.userId && one.name === res.users[0].name, JSON.stringify(one));
});

await check('businesses: create ({success, buiseness} sic), get, list, update, delete', async () => {
  const cr = await ghl.businesses.createBusiness({ locationId: LOC, name: 'SDK Widgets', city: 'Oslo', email: 'hi@widgets.example.com' });
  assert(cr.success === true, JSON.stringify(cr));
  shape(cr.buiseness, Business, 'UpdateBusinessResponseDto.buiseness');
  const id = cr.buiseness.id;
  const got = await ghl.businesses.getBusiness({ businessId: id });
  shape(got.business, Business, 'GetBusinessByIdResponseDto.business');
  assert(got.business.name === 'SDK Widgets' && got.business.city === 'Oslo', JSON.stringify(got));
  const list = await ghl.businesses.getBusinessesByLocation({ locationId: LOC, limit: '100', skip: '0' });
  assert(Array.isArray(list.businesses) && list.businesses.length === 6 && list.businesses.some((b) => b.id === id), JSON.stringify(list));
  const up = await ghl.businesses.updateBusiness({ businessId: id }, { city: 'Bergen' });
  assert(up.success === true && up.buiseness.city === 'Bergen' && up.buiseness.name === 'SDK Widgets', JSON.stringify(up));
  const del = await ghl.businesses.deleteBusiness({ businessId: id });
  assert(del.success === true, JSON.stringify(del));
  await expectError(ghl.businesses.getBusiness({ businessId: id }), 404, 'Business not found', 'deleted business');
  crm.businessId = list.businesses[0].id;
});

await check('contacts: create, get, update, upsert (new and existing), delete', async () => {
  const cr = await ghl.contacts.createContact({
    locationId: LOC, firstName: 'Sdk', lastName: 'Person', email: 'sdk.person@example.com', phone: '+15559990001',
    tags: ['sdk'], assignedTo: crm.userId, companyName: 'SDK Widgets', city: 'Oslo', country: 'NO',
    customFields: [{ id: 'cf_sdk', field_value: 'x' }],
  });
  shape(cr.contact, Contact, 'CreateContactsSuccessfulResponseDto.contact');
  const id = cr.contact.id;
  const got = await ghl.contacts.getContact({ contactId: id });
  shape(got.contact, Contact, 'ContactsByIdSuccessfulResponseDto.contact');
  assert(got.contact.id === id && got.contact.email === 'sdk.person@example.com' && got.contact.assignedTo === crm.userId, JSON.stringify(got));
  const up = await ghl.contacts.updateContact({ contactId: id }, { city: 'Bergen', businessId: crm.businessId });
  assert(up.succeded === true && up.contact.city === 'Bergen' && up.contact.businessId === crm.businessId, JSON.stringify(up));
  const same = await ghl.contacts.upsertContact({ locationId: LOC, email: 'SDK.PERSON@example.com', postalCode: '5003' });
  assert(same.new === false && same.contact.id === id && same.contact.postalCode === '5003', JSON.stringify(same));
  const fresh = await ghl.contacts.upsertContact({ locationId: LOC, email: 'sdk.fresh@example.com', firstName: 'Fresh' });
  assert(fresh.new === true && fresh.contact.id !== id, JSON.stringify(fresh));
  shape(fresh.contact, Contact, 'UpsertContactsSuccessfulResponseDto.contact');
  const del = await ghl.contacts.deleteContact({ contactId: fresh.contact.id });
  assert(del.succeded === true, JSON.stringify(del));
  await expectError(ghl.contacts.getContact({ contactId: fresh.contact.id }), 404, 'Contact not found', 'deleted contact');
  await expectError(ghl.contacts.createContact({ locationId: LOC, email: 'not-an-email' }), 422, 'email must be an email', 'bad email');
  crm.contactId = id;
});

await check('contacts.searchContactsAdvanced pages with searchAfter to the end, total counted', async () => {
  const seen = new Set();
  let total = -1;
  let searchAfter;
  for (let i = 0; i < 20; i++) {
    const res = await ghl.contacts.searchContactsAdvanced({ locationId: LOC, pageLimit: 10, ...(searchAfter ? { searchAfter } : {}) });
    assert(Array.isArray(res.contacts) && typeof res.total === 'number', JSON.stringify(res).slice(0, 300));
    total = res.total;
    if (res.contacts.length === 0) break;
    for (const c of res.contacts) {
      shape(c, { ...Contact, searchAfter: 'array' }, 'search contact');
      assert(!seen.has(c.id), `contact ${c.id} twice`);
      seen.add(c.id);
    }
    searchAfter = res.contacts[res.contacts.length - 1].searchAfter;
  }
  assert(total === 26 && seen.size === 26 && seen.has(crm.contactId), `total ${total}, seen ${seen.size}`);
  const filtered = await ghl.contacts.searchContactsAdvanced({
    locationId: LOC, pageLimit: 100, filters: [{ field: 'type', operator: 'eq', value: 'customer' }],
  });
  assert(filtered.total === 9 && filtered.contacts.every((c) => c.type === 'customer'), JSON.stringify(filtered).slice(0, 300));
});

await check('contacts.searchContactsAdvanced: the bodies crmgate sends (sort, range on dateUpdated, OR group, query)', async () => {
  // ListContacts: sorted by dateAdded, one more than the page, range filter.
  const sorted = await ghl.contacts.searchContactsAdvanced({
    locationId: LOC, pageLimit: 6, sort: [{ field: 'dateAdded', direction: 'asc' }],
    filters: [{ field: 'dateUpdated', operator: 'range', value: { gt: '2025-01-07T04:30:00Z' } }],
  });
  assert(sorted.contacts.length === 6 && sorted.total >= 5, JSON.stringify(sorted).slice(0, 300));
  for (let i = 1; i < sorted.contacts.length; i++) {
    assert(sorted.contacts[i - 1].dateAdded <= sorted.contacts[i].dateAdded, 'not sorted by dateAdded');
  }
  const next = await ghl.contacts.searchContactsAdvanced({
    locationId: LOC, pageLimit: 6, sort: [{ field: 'dateAdded', direction: 'asc' }], searchAfter: sorted.contacts[4].searchAfter,
    filters: [{ field: 'dateUpdated', operator: 'range', value: { gt: '2025-01-07T04:30:00Z' } }],
  });
  assert(next.contacts.length >= 1 && next.contacts[0].id === sorted.contacts[5].id, JSON.stringify(next).slice(0, 300));
  // SearchContacts: an OR group of eq, a sort by a name, a query.
  const vip = await ghl.contacts.searchContactsAdvanced({
    locationId: LOC, pageLimit: 100, sort: [{ field: 'lastNameLowerCase', direction: 'desc' }],
    filters: [{ group: 'OR', filters: [{ field: 'tags', operator: 'eq', value: 'vip' }, { field: 'tags', operator: 'eq', value: 'referral' }] }],
  });
  assert(vip.total > 0 && vip.contacts.every((c) => c.tags.includes('vip') || c.tags.includes('referral')), JSON.stringify(vip).slice(0, 300));
  const q = await ghl.contacts.searchContactsAdvanced({ locationId: LOC, pageLimit: 10, query: 'lovelace' });
  assert(q.total > 0 && q.contacts.every((c) => c.lastName.toLowerCase() === 'lovelace'), JSON.stringify(q).slice(0, 300));
  await expectError(ghl.contacts.searchContactsAdvanced({
    locationId: LOC, pageLimit: 10, filters: [{ field: 'firstName', operator: 'range', value: { gt: 'x' } }],
  }), 400, 'range is supported on dateAdded and dateUpdated only', 'range on a name');
});

await check('contacts.getContacts (deprecated list) with startAfterId', async () => {
  const first = await ghl.contacts.getContacts({ locationId: LOC, limit: 20 });
  assert(first.contacts.length === 20 && first.count === 26 && first.meta.startAfterId, JSON.stringify(first.meta));
  const next = await ghl.contacts.getContacts({ locationId: LOC, limit: 20, startAfterId: first.meta.startAfterId, startAfter: first.meta.startAfter });
  assert(next.contacts.length === 6 && !first.contacts.some((c) => next.contacts.some((n) => n.id === c.id)), JSON.stringify(next.meta));
});

await check('contacts notes: create, list, get, update, delete', async () => {
  const cr = await ghl.contacts.createNote({ contactId: crm.contactId }, { body: 'Met at the fair', userId: crm.userId });
  shape(cr.note, Note, 'GetCreateUpdateNoteSuccessfulResponseDto.note');
  const id = cr.note.id;
  const list = await ghl.contacts.getAllNotes({ contactId: crm.contactId });
  assert(Array.isArray(list.notes) && list.notes.length === 1 && list.notes[0].id === id, JSON.stringify(list));
  const got = await ghl.contacts.getNote({ contactId: crm.contactId, id });
  assert(got.note.body === 'Met at the fair' && got.note.contactId === crm.contactId, JSON.stringify(got));
  const up = await ghl.contacts.updateNote({ contactId: crm.contactId, id }, { body: 'Met at the fair, twice' });
  assert(up.note.body === 'Met at the fair, twice', JSON.stringify(up));
  const del = await ghl.contacts.deleteNote({ contactId: crm.contactId, id });
  assert(del.succeded === true, JSON.stringify(del));
  await expectError(ghl.contacts.getNote({ contactId: crm.contactId, id }), 404, 'Note not found', 'deleted note');
});

await check('opportunities.getPipelines: Sales with ordered stages', async () => {
  const res = await ghl.opportunities.getPipelines({ locationId: LOC });
  assert(Array.isArray(res.pipelines) && res.pipelines.length === 1, JSON.stringify(res));
  const p = res.pipelines[0];
  shape(p, { id: 'string', name: 'string', stages: 'array', locationId: 'string' }, 'PipelinesResponseSchema');
  assert(p.name === 'Sales' && p.stages.map((s) => s.name).join() === 'New Lead,Qualified,Proposal Sent,Negotiation,Closed', JSON.stringify(p));
  crm.pipelineId = p.id;
  crm.stages = p.stages.map((s) => s.id);
});

await check('opportunities: create, get, update, status, upsert, delete', async () => {
  const cr = await ghl.opportunities.createOpportunity({
    locationId: LOC, pipelineId: crm.pipelineId, name: 'SDK deal', status: 'open', contactId: crm.contactId, monetaryValue: 1234,
  });
  shape(cr.opportunity, Opportunity, 'GetPostOpportunitySuccessfulResponseDto.opportunity');
  const id = cr.opportunity.id;
  assert(cr.opportunity.pipelineStageId === crm.stages[0] && cr.opportunity.contact.id === crm.contactId, JSON.stringify(cr));
  const got = await ghl.opportunities.getOpportunity({ id });
  assert(got.opportunity.id === id && got.opportunity.monetaryValue === 1234, JSON.stringify(got));
  const up = await ghl.opportunities.updateOpportunity({ id }, { pipelineStageId: crm.stages[2], monetaryValue: 2000 });
  assert(up.opportunity.pipelineStageId === crm.stages[2] && up.opportunity.monetaryValue === 2000, JSON.stringify(up));
  const status = await ghl.opportunities.updateOpportunityStatus({ id }, { status: 'won' });
  assert(status.succeded === true, JSON.stringify(status));
  const again = await ghl.opportunities.upsertOpportunity({
    locationId: LOC, pipelineId: crm.pipelineId, id, name: 'SDK deal, renamed', followers: [], isRemoveAllFollowers: false, followersActionType: 'add',
  });
  assert(again.new === false && again.opportunity.name === 'SDK deal, renamed' && again.opportunity.status === 'won', JSON.stringify(again));
  const made = await ghl.opportunities.upsertOpportunity({
    locationId: LOC, pipelineId: crm.pipelineId, contactId: crm.contactId, name: 'dup?', followers: [], isRemoveAllFollowers: false, followersActionType: 'add',
  });
  assert(made.new === false && made.opportunity.id === id, 'upsert matches contact and pipeline: ' + JSON.stringify(made));
  const del = await ghl.opportunities.deleteOpportunity({ id });
  assert(del.succeded === true, JSON.stringify(del));
  await expectError(ghl.opportunities.getOpportunity({ id }), 404, 'Opportunity not found', 'deleted opportunity');
  await expectError(ghl.opportunities.updateOpportunityStatus({ id: 'nope' }, { status: 'maybe' }), 404, 'Opportunity not found', 'status of unknown');
});

// The SDK takes camelCase params and sends the spec's snake_case (location_id...).
await check('opportunities.searchOpportunity pages with startAfter/startAfterId, filters', async () => {
  const seen = new Set();
  let params = { locationId: LOC, limit: 4 };
  for (let i = 0; i < 10; i++) {
    const res = await ghl.opportunities.searchOpportunity(params);
    shape(res.meta, SearchMeta, 'SearchMetaResponseSchema');
    assert(res.meta.total === 10, JSON.stringify(res.meta));
    for (const o of res.opportunities) {
      shape(o, Opportunity, 'search opportunity');
      assert(!seen.has(o.id), `opportunity ${o.id} twice`);
      seen.add(o.id);
    }
    if (!res.meta.startAfterId) break;
    params = { locationId: LOC, limit: 4, startAfterId: res.meta.startAfterId, startAfter: String(res.meta.startAfter) };
  }
  assert(seen.size === 10, `saw ${seen.size}`);
  const won = await ghl.opportunities.searchOpportunity({ locationId: LOC, status: 'won', pipelineId: crm.pipelineId });
  assert(won.opportunities.length === 1 && won.opportunities[0].status === 'won', JSON.stringify(won.meta));
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
