package server

import (
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/reflect/protoreflect"

	adminv1 "github.com/crmgate/crmgate/gen/crmgate/admin/v1"
	corev1 "github.com/crmgate/crmgate/gen/crmgate/core/v1"
	crmv1 "github.com/crmgate/crmgate/gen/crmgate/crm/v1"
	"github.com/crmgate/crmgate/internal/apierr"
	"github.com/crmgate/crmgate/internal/server/restrules"
)

// restRoutes is the REST facade's route table, from the protos'
// google.api.http rules: CrmService's and CoreService's, and AdminService's
// when it is served.
func restRoutes(admin bool) (*restrules.Table, error) {
	files := []protoreflect.FileDescriptor{crmv1.File_crmgate_crm_v1_crm_proto, corev1.File_crmgate_core_v1_core_proto}
	if admin {
		files = append(files, adminv1.File_crmgate_admin_v1_admin_proto)
	}
	routes, err := restrules.Routes(files...)
	if err != nil {
		return nil, err
	}
	return restrules.NewTable(routes), nil
}

// rejectUnknownQuery answers 400 INVALID_ARGUMENT, naming them, to calls
// with query parameters their route does not read: grpc-gateway ignores
// them, so a typo (page_sise) or a parameter of another route would
// otherwise go unnoticed.
func rejectUnknownQuery(table *restrules.Table) runtime.Middleware {
	return func(next runtime.HandlerFunc) runtime.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
			if r.URL.RawQuery != "" {
				if p, ok := runtime.HTTPPattern(r.Context()); ok {
					if route, ok := table.Lookup(r.Method, p.String()); ok {
						if bad := route.Unknown(r.URL.Query()); len(bad) > 0 {
							apierr.WriteHTTP(w, apierr.UnknownQueryParameters(bad, route.Query))
							return
						}
					}
				}
			}
			next(w, r, params)
		}
	}
}
