// Package ghlfake is a stateful, in-memory fake of HighLevel's (GHL) API v2
// for the parts crmgate uses: object schemas, records and record search,
// custom fields and folders, associations and relations, and the standard
// CRM entities (contacts and their notes, opportunities and pipelines,
// businesses, users). It is an
// http.Handler; tests serve it with httptest.NewServer:
//
//	fake := ghlfake.New(ghlfake.Options{})
//	fake.AddToken("pit-123", "loc1")  // a token bound to one location
//	fake.SeedDemo("loc1", 50)         // custom_objects.pet and 50 records
//	srv := httptest.NewServer(fake)
//	defer srv.Close()
//	// point the client at srv.URL instead of https://services.leadconnectorhq.com
//
// The authority for every shape is HighLevel's OpenAPI specs (objects.json,
// custom-fields.json, associations.json, contacts.json, opportunities.json,
// businesses.json, users.json, common-schemas.json) and the facts
// listed beside them in shared/ghl-openapi/README.md. HighLevel's official
// JavaScript SDK (@gohighlevel/api-client) drives the fake in the contract
// test sdk_contract_test.go (sdktest/contract.mjs).
//
// # Routes
//
// RequestCount takes these strings (the spec's paths):
//
//	GET    /objects/                              POST /objects/
//	GET    /objects/{key}                         PUT  /objects/{key}
//	POST   /objects/{schemaKey}/records
//	POST   /objects/{schemaKey}/records/search
//	GET    /objects/{schemaKey}/records/{id}
//	PUT    /objects/{schemaKey}/records/{id}
//	DELETE /objects/{schemaKey}/records/{id}
//	GET    /custom-fields/object-key/{objectKey}  POST /custom-fields/
//	GET    /custom-fields/{id}                    PUT  /custom-fields/{id}
//	DELETE /custom-fields/{id}
//	POST   /custom-fields/folder
//	PUT    /custom-fields/folder/{id}             DELETE /custom-fields/folder/{id}
//	GET    /associations/                         POST /associations/
//	GET    /associations/key/{key_name}
//	GET    /associations/objectKey/{objectKey}
//	GET    /associations/{associationId}
//	PUT    /associations/{associationId}          DELETE /associations/{associationId}
//	POST   /associations/relations
//	GET    /associations/relations/{recordId}
//	DELETE /associations/relations/{relationId}
//	POST   /contacts/                             GET  /contacts/
//	POST   /contacts/upsert                       POST /contacts/search
//	GET    /contacts/{contactId}                  PUT  /contacts/{contactId}
//	DELETE /contacts/{contactId}
//	GET    /contacts/{contactId}/notes            POST /contacts/{contactId}/notes
//	GET    /contacts/{contactId}/notes/{id}       PUT  /contacts/{contactId}/notes/{id}
//	DELETE /contacts/{contactId}/notes/{id}
//	POST   /opportunities/                        GET  /opportunities/search
//	GET    /opportunities/pipelines               POST /opportunities/upsert
//	GET    /opportunities/{id}                    PUT  /opportunities/{id}
//	DELETE /opportunities/{id}                    PUT  /opportunities/{id}/status
//	POST   /businesses/                           GET  /businesses/
//	GET    /businesses/{businessId}               PUT  /businesses/{businessId}
//	DELETE /businesses/{businessId}
//	GET    /users/                                GET  /users/{userId}
//
// As with Express, a trailing slash is optional ("/objects" is "/objects/").
// An unknown route or method answers 404 {"message":"Cannot GET /x",
// "error":"Not Found","statusCode":404}, as NestJS does.
//
// # Checks, in order
//
//  1. Version header. Missing: 401 {"statusCode":401,"message":"version
//     header was not found."}; not a published version: 401 "version header
//     is invalid". Accepted: 2021-07-28 (what the spec names), and the other
//     published versions 2021-04-15, 2023-02-21 and v3, which HighLevel
//     answers on established paths (v3's specs for these apps have the same
//     schemas). The official SDK sends 2023-02-21 unless told otherwise.
//  2. Bearer token: missing, unknown or revoked answers 401
//     {"statusCode":401,"message":"Invalid token: access token is invalid",
//     "error":"Unauthorized"}. Each token is bound to one location (AddToken);
//     requests act in that location.
//  3. Rate limits of the token's location: a sliding burst window (100
//     requests / 10 s) and a daily budget (200,000, reset at 00:00 UTC), both
//     set in Options. Beyond them: 429 {"statusCode":429,"message":"Too Many
//     Requests"}. Every answer carries X-RateLimit-Max, X-RateLimit-Remaining,
//     X-RateLimit-Interval-Milliseconds, X-RateLimit-Limit-Daily and
//     X-RateLimit-Daily-Remaining; an answer that used no budget (401, unknown
//     route) carries the full limits. A 429 uses no budget, and on a daily
//     429 X-RateLimit-Daily-Remaining is 0, which is how the SDK tells a
//     daily 429 (never retried) from a burst one.
//  4. Body: malformed JSON answers 400 {"statusCode":400,"message":...}; a
//     value of the wrong JSON type answers 422 ("name must be a string").
//  5. locationId, where the endpoint documents one (query or body): missing
//     answers 422 {"statusCode":422,"message":["locationId should not be
//     empty"],"error":"Unprocessable Entity"}; another location than the
//     token's answers 403 {"statusCode":403,"message":"The token does not
//     have access to this location."}. Endpoints without one act in the
//     token's location.
//  6. DTO validation (required fields, enums, pageLimit <= 100): 422 with
//     every message, class-validator style ("pageLimit must not be greater
//     than 100").
//  7. Business rules (unknown property, wrong value type, duplicate key,
//     duplicate relation...): 400 {"statusCode":400,"message":"..."}.
//
// A resource addressed by the path that does not exist (object, record,
// field, folder, association, relation) answers 404 {"statusCode":404,
// "message":"...","error":"Not Found"}; an id in a body that does not exist
// (associationId of a relation, a record of a relation, parentId) answers
// 400.
//
// # Fidelity decisions and guesses
//
// Where the specs are silent or wrong, the fake follows what HighLevel's
// servers are known to answer, and otherwise guesses; each guess is listed.
//
//   - Version errors are 401, not 400: HighLevel answers a missing or unknown
//     Version with 401 "version header was not found." / "version header is
//     invalid" (reported by integrators probing the live API; the specs list
//     no such error). Beware: a client that refreshes its token on every 401
//     will do so for this too.
//   - Not-found is 404 with NestJS's body. The specs document only 400, 401
//     and 422 for these endpoints, but the official SDK maps 404 to
//     GHLNotFoundError "the resource does not exist". Guess.
//   - Record search: searchAfter is [createdAt epoch millis, record id], as
//     the spec's RecordResponseDTO example shows ([1738683828372,
//     "67a235b49b289431bcf657f8"]); records are sorted by (createdAt, id) and
//     a searchAfter returns the records strictly after it, so paging is
//     exact and stable under inserts. The request may send the two values
//     as numbers or strings (the spec types SearchRecordsBody.searchAfter as
//     string[]). When searchAfter is given, page is ignored; otherwise page
//     (from 1) and pageLimit (1..100) make an offset. total counts every
//     match. page defaults to 1 and pageLimit to 10 when absent although the
//     spec marks them (and query, searchAfter) required: real clients omit
//     query and searchAfter.
//   - Search query: "text" matches, case-insensitively as a substring, the
//     searchable properties (the object's searchableProperties; the primary
//     display property always); "field:text" matches that one property, as
//     the spec's "name:Buddy" example. HighLevel uses a search engine whose
//     tokenising may differ. filters ({field:"properties.x", operator, value}
//     and {group: AND|OR, filters}) support eq, not_eq, contains,
//     not_contains, exists, not_exists and range; sort is refused (400)
//     rather than ignored.
//   - Record bodies are {locationId, properties, owner, followers} (the spec
//     leaves them undocumented). Properties use bare field keys; values are
//     checked per dataType: TEXT/LARGE_TEXT/PHONE strings, EMAIL an address,
//     NUMERICAL a number, MONETORY {"currency":"default","value":n},
//     SINGLE_OPTIONS/RADIO one option key (RADIO with allowCustomOption: any
//     string), MULTIPLE_OPTIONS/CHECKBOX an array of option keys, DATE
//     "YYYY-MM-DD" (or RFC 3339), FILE_UPLOAD [{"url":...}] (at most
//     maxFileLimit), TEXTBOX_LIST "field.option_key": string. null clears a
//     property on update. The primary display property is required on
//     create and cannot be cleared. owner holds at most 1 user, followers
//     at most 10. Guess: the messages of these 400s.
//   - Record answers: single-record endpoints return IRecordSchema's fields
//     plus RecordResponseDTO's (createdAt, updatedAt, locationId, objectId,
//     objectKey, createdBy, lastUpdatedBy); search returns RecordResponseDTO
//     exactly. createdBy is {channel:"API", source:"PUBLIC_API", sourceId: a
//     hash of the token, createdAt} (guess). The "relations" array and the
//     "traceId" HighLevel adds to some answers are not produced.
//   - Records exist for custom objects and business only ("Supported Objects
//     are business and custom objects"); records of contact or opportunity
//     answer 400. The custom-fields endpoints likewise serve custom objects
//     and business. Standard objects are listed by GET /objects/ with
//     standard:true and type SYSTEM_DEFINED, with a few standard fields
//     (fetchProperties=true) that cannot be changed; only their
//     searchableProperties can be updated. Business is labelled
//     Company/Companies as in HighLevel's UI.
//   - Object schemas carry searchableProperties (not in ICustomObjectSchema,
//     but set by UpdateCustomObjectSchemaDTO). A custom object key without the
//     "custom_objects." prefix gets it ("would be added as prefix by
//     default"), and so does a bare primary display property key. Creating
//     an object creates its primary display field and a default folder
//     "General Info" (guess: the name).
//   - Custom fields: fieldKey is "<objectKey>.<key>" (a bare key gets the
//     prefix); the spec's "custom_object.pet.name" examples (singular) are a
//     typo and are refused. parentId defaults to the object's default folder
//     and showInForms to false although the spec marks them required; name
//     is required although the spec does not mark it. Option fields need
//     options; an option without key gets one from its label. Update may not
//     change dataType, fieldKey or objectKey (400) and, as documented, may
//     not remove options (400). Deleting a field removes its values from
//     records; the primary display field cannot be deleted. Folders: their
//     delete answer's "key" is the folder name (guess); a folder holding
//     fields or the default folder cannot be deleted.
//   - Associations: list answers {associations:[...], total} and
//     GET /associations/objectKey/{objectKey} answers {associations:[...]}
//     (the spec says GetPostSuccessfulResponseDto for both; clients of the
//     live API read "associations"). skip and limit default to 0 and 100.
//     Keys are unique per location. No SYSTEM_DEFINED associations are
//     seeded. Deleting an association deletes its relations.
//   - Relations: a relation is {id, associationId, firstObjectKey,
//     firstRecordId, secondObjectKey, secondRecordId, locationId} (the
//     RelationCreate webhook's shape; the spec again says
//     GetPostSuccessfulResponseDto); create answers it with 201, delete
//     answers the deleted relation, and GET /associations/relations/{recordId}
//     answers {relations:[...], total} with the relations the record is on
//     either side of, filtered by associationIds (repeated, "associationIds[]"
//     or comma separated). A duplicate answers 400 "Could not create
//     relation: duplicate relation of object Ids for given association <id>",
//     HighLevel's message. Record ids of custom objects and business must
//     exist; contact and opportunity ids are not stored by the fake and are
//     accepted as given. Deleting a record deletes its relations.
//   - IDs: objects, records, associations and relations get 24-hex-digit
//     MongoDB ObjectIds; fields and folders 20-character alphanumeric ids.
//   - Scopes are not modelled: every token may call every endpoint (the
//     specs name contacts.readonly/write, opportunities.readonly/write,
//     businesses.readonly/write and users.readonly; HighLevel answers a
//     missing one with 401 "The token is not authorized for this scope.").
//
// # Standard CRM entities: where the specs are silent
//
//   - Objects API vs /businesses/: business records are served by both, as
//     two separate stores; the /businesses/ endpoints (businesses.json) are
//     the CRM entity, and POST /objects/business/records does not create a
//     /businesses/ business nor the reverse (HighLevel shares one store;
//     not modelled).
//   - Answers follow the specs' DTOs: {contact}, {succeded, contact} (sic) on
//     update, {succeded} on delete, {new, contact, traceId} on upsert;
//     {opportunity}, {succeded} for status and delete, {opportunity, new}
//     for upsert; {success, buiseness} (sic) on business create and update,
//     {business} on get, {businesses} on list, {success} on delete; {users}
//     and the bare user for users. Create answers 201, the rest 200.
//   - Unknown ids in the path answer 404 ("Contact not found", "Note not
//     found", "Opportunity not found", "Business not found", "User not
//     found"); the specs list 400/422 only (guess, as for records). An id in
//     a body that does not exist (assignedTo, businessId, contactId,
//     pipelineId, pipelineStageId) answers 400.
//   - Contacts: the spec's contact schemas lack additionalEmails and
//     additionalPhones; the fake accepts and answers them (string arrays,
//     HighLevel's field names in its UI and webhooks). type is lead or
//     customer (default lead; the spec gives no enum). Tags are stored
//     lower-cased and de-duplicated. customFields accept {id|key,
//     field_value} (the spec's inputs) or {id, value} and answer {id, value}
//     (CustomFieldSchema); they are not checked against a field list (the
//     fake's custom-fields endpoints serve custom objects and business
//     only); a null value removes one. name defaults to "first last".
//     locationId in an update body answers 422 "property locationId should
//     not exist" (NestJS whitelist).
//   - Duplicates: the location's "Allow Duplicate Contact" setting
//     (SetAllowDuplicateContacts, off by default). Off: create with the
//     email (case-insensitive) or phone of a contact answers 400 "This
//     location does not allow duplicated contacts." with meta {contactName,
//     matchingField, contactId}. Upsert matches on email first, then phone,
//     and updates the match (new:false) or creates (new:true); with the
//     setting on and createNewIfDuplicateAllowed true it always creates.
//   - POST /contacts/search: SearchBodyV2DTO is empty in the spec; the body
//     is HighLevel's documented {locationId, page, pageLimit, searchAfter,
//     query, filters, sort}. pageLimit 1..500 (default 10), page from 1.
//     The answer is {contacts, total}; every contact carries searchAfter =
//     [sort value, id] (the sort value is epoch millis for dateAdded /
//     dateUpdated, the lower-cased string otherwise), the cursor of the next
//     page; with searchAfter, page is ignored. Default sort dateAdded asc;
//     one sort {field, direction asc|desc} on a contact field. filters:
//     {field, operator, value} with eq, not_eq, contains, not_contains,
//     exists, not_exists, range (dateAdded and dateUpdated only; value
//     {gt, gte, lt, lte}, each an ISO 8601 date-time or epoch millis), and
//     {group: AND|OR, filters}; fields id,
//     firstNameLowerCase, lastNameLowerCase, fullNameLowerCase, email,
//     phone, companyName, city, state, country, postalCode, source, type,
//     assignedTo, businessId, dnd, tags, dateAdded, dateUpdated; other
//     fields or operators answer 400. query matches name, email, phone or
//     company as a case-insensitive substring.
//   - GET /contacts/ (deprecated): limit 1..100 (default 20), query, and
//     startAfterId cursor; answers {contacts, count, meta} with meta
//     (ContactsMetaSchema) {total, currentPage, startAfterId, startAfter,
//     nextPageUrl} when more follow.
//   - Notes: listed newest first. body is required on create (422) and may
//     not be emptied. A note is found only under its own contact. Deleting
//     a contact deletes its notes (its opportunities are kept).
//   - Opportunities: status is open, won, lost or abandoned ("all" is in the
//     spec's enum but refused on write, accepted as a search filter). A
//     missing pipelineStageId becomes the pipeline's first stage; changing
//     the pipeline without a stage clears the stage. lastStatusChangeAt and
//     lastStageChangeAt move when status or stage change. Update refuses
//     locationId and contactId (422). Upsert needs pipelineId (the spec also
//     marks followers, isRemoveAllFollowers and followersActionType
//     required; real clients omit them) and matches on id (unknown: 400),
//     else on (contactId, pipelineId); creating needs contactId and name.
//     The embedded contact {id, name, companyName, email, phone, tags} is
//     present while the contact exists. monetaryValue is a number.
//   - GET /opportunities/search: order (createdAt, id) ascending; limit
//     1..100 (default 20); page paging, or startAfter (createdAt epoch
//     millis) + startAfterId cursors, as meta.nextPageUrl gives; filters
//     pipeline_id, pipeline_stage_id, contact_id, assigned_to, id, status
//     (all = any), q (opportunity name or contact's name/email/phone/company)
//     and date / endDate (mm-dd-yyyy or YYYY-MM-DD, inclusive days, on
//     createdAt). location_id missing answers 422 "location_id should not be
//     empty". meta is {total, currentPage, prevPage, nextPage, startAfter,
//     startAfterId, nextPageUrl}; aggregations is {}. getTasks, getNotes,
//     getCalendarEvents, campaignId, order and country are ignored.
//   - Pipelines: read-only, made by SeedCRM; stages are answered in order as
//     {id, name, position, showInFunnel, showInPieChart} (the spec types
//     stages as an array of arrays).
//   - Businesses: ObjectId ids; createdBy / updatedBy are the record actor
//     {channel, source, sourceId, createdAt} (the spec leaves them empty);
//     list takes limit (default 100) and skip, ordered by creation.
//     Deleting a business clears businessId of its contacts.
//   - Users: read-only, made by AddUser or SeedCRM; a user is UserSchema's
//     {id, name, firstName, lastName, email, phone, extension, scopes,
//     roles {type:"account", role, locationIds, restrictSubAccount},
//     deleted}; permissions are not produced. /users/search is not served.
//   - Contact, opportunity, note, user and pipeline ids are 20-character
//     alphanumeric ids, as HighLevel's; SeedCRM derives them (and business
//     ObjectIds) from a hash of the location id, the kind and the position,
//     so the same location gets the same ids on every run.
package ghlfake
