// The generated namespace table with SOAP 1.1 first: include after the .nsmap.
//
// The contract has a SOAP 1.2 port, so wsdl2h makes SOAP 1.2 the namespace table's
// default (gSOAP takes the SOAP version from the table). For the SOAP 1.1 port a
// driver hands gSOAP this copy, the way the gSOAP guide selects a version at run
// time (soap_set_namespaces).
#pragma once
#include <vector>

static std::vector<Namespace> soap11_table() {
  std::vector<Namespace> table;
  for (const Namespace *n = namespaces; n->id; n++) table.push_back(*n);
  table.push_back({NULL, NULL, NULL, NULL});
  table[0].ns = "http://schemas.xmlsoap.org/soap/envelope/";
  table[0].in = "http://www.w3.org/*/soap-envelope";
  table[1].ns = "http://schemas.xmlsoap.org/soap/encoding/";
  table[1].in = "http://www.w3.org/*/soap-encoding";
  return table;
}
