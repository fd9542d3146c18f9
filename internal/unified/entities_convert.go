package unified

import (
	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/crm"
)

// Conversions of the standard entities between crm and protobuf.

func (b *builder) contact(c crm.Contact, raw bool) *crmv1.Contact {
	out := &crmv1.Contact{
		Id:             c.ID,
		FirstName:      validUTF8(c.FirstName),
		LastName:       validUTF8(c.LastName),
		Name:           validUTF8(c.Name),
		CompanyName:    validUTF8(c.CompanyName),
		AccountId:      c.AccountID,
		OwnerId:        c.OwnerID,
		LifecycleStage: validUTF8(c.LifecycleStage),
		Tags:           make([]string, len(c.Tags)),
		CustomFields:   b.toStruct(orEmpty(c.CustomFields)),
		CreatedAt:      b.ts(c.CreatedAt),
		UpdatedAt:      b.ts(c.UpdatedAt),
		RawData:        b.rawStruct(c.Raw, raw),
	}
	for i, t := range c.Tags {
		out.Tags[i] = validUTF8(t)
	}
	out.Emails = make([]*crmv1.Email, len(c.Emails))
	for i, e := range c.Emails {
		out.Emails[i] = &crmv1.Email{Address: validUTF8(e.Address), Type: validUTF8(e.Type), IsPrimary: e.Primary}
	}
	out.Phones = make([]*crmv1.Phone, len(c.Phones))
	for i, p := range c.Phones {
		out.Phones[i] = &crmv1.Phone{Number: validUTF8(p.Number), Type: validUTF8(p.Type), IsPrimary: p.Primary}
	}
	out.Addresses = make([]*crmv1.Address, len(c.Addresses))
	for i, a := range c.Addresses {
		out.Addresses[i] = &crmv1.Address{Street: validUTF8(a.Street), City: validUTF8(a.City), State: validUTF8(a.State),
			PostalCode: validUTF8(a.PostalCode), Country: validUTF8(a.Country), Type: validUTF8(a.Type)}
	}
	return out
}

// contactFromProto is the writable part of a contact (id, timestamps and
// raw_data are the provider's).
func contactFromProto(p *crmv1.Contact) crm.Contact {
	c := crm.Contact{
		FirstName:      p.GetFirstName(),
		LastName:       p.GetLastName(),
		Name:           p.GetName(),
		CompanyName:    p.GetCompanyName(),
		AccountID:      p.GetAccountId(),
		OwnerID:        p.GetOwnerId(),
		LifecycleStage: p.GetLifecycleStage(),
		Tags:           p.GetTags(),
	}
	if p.GetCustomFields() != nil {
		c.CustomFields = p.GetCustomFields().AsMap()
	}
	for _, e := range p.GetEmails() {
		c.Emails = append(c.Emails, crm.Email{Address: e.GetAddress(), Type: e.GetType(), Primary: e.GetIsPrimary()})
	}
	for _, ph := range p.GetPhones() {
		c.Phones = append(c.Phones, crm.Phone{Number: ph.GetNumber(), Type: ph.GetType(), Primary: ph.GetIsPrimary()})
	}
	for _, a := range p.GetAddresses() {
		c.Addresses = append(c.Addresses, crm.Address{Street: a.GetStreet(), City: a.GetCity(), State: a.GetState(),
			PostalCode: a.GetPostalCode(), Country: a.GetCountry(), Type: a.GetType()})
	}
	return c
}

func (b *builder) account(a crm.Account, raw bool) *crmv1.Account {
	out := &crmv1.Account{
		Id:           a.ID,
		Name:         validUTF8(a.Name),
		Website:      validUTF8(a.Website),
		Domain:       validUTF8(a.Domain),
		Description:  validUTF8(a.Description),
		OwnerId:      a.OwnerID,
		CustomFields: b.toStruct(orEmpty(a.CustomFields)),
		CreatedAt:    b.ts(a.CreatedAt),
		UpdatedAt:    b.ts(a.UpdatedAt),
		RawData:      b.rawStruct(a.Raw, raw),
	}
	out.Emails = make([]*crmv1.Email, len(a.Emails))
	for i, e := range a.Emails {
		out.Emails[i] = &crmv1.Email{Address: validUTF8(e.Address), Type: validUTF8(e.Type), IsPrimary: e.Primary}
	}
	out.Phones = make([]*crmv1.Phone, len(a.Phones))
	for i, p := range a.Phones {
		out.Phones[i] = &crmv1.Phone{Number: validUTF8(p.Number), Type: validUTF8(p.Type), IsPrimary: p.Primary}
	}
	out.Addresses = make([]*crmv1.Address, len(a.Addresses))
	for i, ad := range a.Addresses {
		out.Addresses[i] = &crmv1.Address{Street: validUTF8(ad.Street), City: validUTF8(ad.City), State: validUTF8(ad.State),
			PostalCode: validUTF8(ad.PostalCode), Country: validUTF8(ad.Country), Type: validUTF8(ad.Type)}
	}
	return out
}

// accountFromProto is the writable part of an account.
func accountFromProto(p *crmv1.Account) crm.Account {
	a := crm.Account{
		Name:        p.GetName(),
		Website:     p.GetWebsite(),
		Domain:      p.GetDomain(),
		Description: p.GetDescription(),
		OwnerID:     p.GetOwnerId(),
	}
	if p.GetCustomFields() != nil {
		a.CustomFields = p.GetCustomFields().AsMap()
	}
	for _, e := range p.GetEmails() {
		a.Emails = append(a.Emails, crm.Email{Address: e.GetAddress(), Type: e.GetType(), Primary: e.GetIsPrimary()})
	}
	for _, ph := range p.GetPhones() {
		a.Phones = append(a.Phones, crm.Phone{Number: ph.GetNumber(), Type: ph.GetType(), Primary: ph.GetIsPrimary()})
	}
	for _, ad := range p.GetAddresses() {
		a.Addresses = append(a.Addresses, crm.Address{Street: ad.GetStreet(), City: ad.GetCity(), State: ad.GetState(),
			PostalCode: ad.GetPostalCode(), Country: ad.GetCountry(), Type: ad.GetType()})
	}
	return a
}
