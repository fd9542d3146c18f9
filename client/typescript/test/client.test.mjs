// The TypeScript client against a running gateway: run by
// internal/e2e/ts_client_test.go (go test, so by scripts/test.sh), which
// starts the real server stack over the GHL fake and passes
// CRMGATE_URL, CRMGATE_API_KEY, CRMGATE_CONNECTION_ID. The connection's
// location holds the demo object `pet` with 7 records.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createClient, must, paginate, CrmgateError } from "../dist/index.js";

const baseUrl = process.env.CRMGATE_URL;
const apiKey = process.env.CRMGATE_API_KEY;
const connectionId = process.env.CRMGATE_CONNECTION_ID;
if (!baseUrl || !apiKey || !connectionId) {
  throw new Error("set CRMGATE_URL, CRMGATE_API_KEY and CRMGATE_CONNECTION_ID");
}
const crm = createClient({ baseUrl, apiKey, connectionId });
const core = createClient({ baseUrl, apiKey });
const pet = { params: { path: { object_name: "pet" } } };

test("metadata: the custom object and its properties", async () => {
  const objects = await must(crm.GET("/v0/unified/crm/metadata/objects", { params: { query: { type: "custom" } } }));
  assert.ok(objects.items?.some((o) => o.name === "pet"), "pet is listed");
  const props = await must(crm.GET("/v0/unified/crm/metadata/objects/{object_name}/properties", pet));
  assert.ok(props.items?.some((p) => p.id === "name"), "pet has a name property");
});

test("records: every page, by cursor", async () => {
  const ids = [];
  for await (const rec of paginate((cursor) =>
    must(crm.GET("/v0/unified/crm/custom_objects/{object_name}", {
      params: { path: { object_name: "pet" }, query: { page_size: 3, cursor: cursor || undefined } },
    })),
  )) {
    ids.push(rec.id);
  }
  assert.equal(ids.length, 7);
  assert.equal(new Set(ids).size, 7, "no record twice");
});

test("records: create, get, update, delete", async () => {
  const created = await must(crm.POST("/v0/unified/crm/custom_objects/{object_name}", {
    ...pet,
    body: { record: { properties: { name: "Rex", species: "dog", age: 4 } } },
  }));
  const id = created.record?.id;
  assert.ok(id, "a new id");
  const path = { params: { path: { object_name: "pet", id } } };
  const got = await must(crm.GET("/v0/unified/crm/custom_objects/{object_name}/{id}", path));
  assert.equal(got.record?.properties?.name, "Rex");
  assert.equal(got.record?.properties?.age, 4);
  const updated = await must(crm.PATCH("/v0/unified/crm/custom_objects/{object_name}/{id}", {
    ...path,
    body: { record: { properties: { age: 5 } } },
  }));
  assert.equal(updated.record?.properties?.age, 5);
  await must(crm.DELETE("/v0/unified/crm/custom_objects/{object_name}/{id}", path));
  await assert.rejects(
    must(crm.GET("/v0/unified/crm/custom_objects/{object_name}/{id}", path)),
    (err) => err instanceof CrmgateError && err.status === 404 && err.body.code === "NOT_FOUND",
  );
});

test("errors: a provider error says so", async () => {
  await assert.rejects(
    must(crm.GET("/v0/unified/crm/custom_objects/{object_name}", { params: { path: { object_name: "nosuch" } } })),
    (err) => err instanceof CrmgateError && err.origin === "provider" && !/custom_objects\./.test(err.body.message),
  );
});

test("errors: a bad value is a 400 naming the field", async () => {
  await assert.rejects(
    must(crm.POST("/v0/unified/crm/custom_objects/{object_name}", {
      ...pet,
      body: { record: { properties: { name: "Rex", age: "four" } } },
    })),
    (err) =>
      err instanceof CrmgateError && err.status === 400 && err.origin === "gateway" &&
      err.body.details.field_violations?.some((v) => v.field === "record.properties.age"),
  );
});

test("errors: a wrong API key is a 401", async () => {
  const bad = createClient({ baseUrl, apiKey: "cgk_not-a-key", connectionId });
  await assert.rejects(must(bad.GET("/v0/unified/crm/metadata/objects", {})), (err) => err instanceof CrmgateError && err.status === 401);
});

test("core: the connection is listed", async () => {
  const conns = await must(core.GET("/v0/core/connections", {}));
  assert.ok(conns.items?.some((c) => c.id === connectionId));
});
