// gSOAP over MTOM: the code wsdl2h + soapcpp2 generate with default flags, and the
// run-time switch the gSOAP guide documents for MTOM (soap_set_omode SOAP_ENC_MTOM;
// a base64Binary with its id, type or options set travels as an XOP attachment), with
// the generated .nsmap as it is (SOAP 1.2) and the endpoint as the stubs' argument.
// Usage: mtom ENDPOINT IMAGE USER PASSWORD
#include "soapH.h"
#include "SoapServiceSoap11Binding.nsmap"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <openssl/sha.h>

static std::string hex_sha256(const unsigned char *p, size_t n) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(p, n, d);
  std::string out;
  char b[3];
  for (unsigned char c : d) { snprintf(b, sizeof b, "%02x", c); out += b; }
  return out;
}

static int fail(soap *s) { soap_print_fault(s, stderr); return 1; }

int main(int argc, char **argv) {
  if (argc != 5) { fprintf(stderr, "usage: mtom ENDPOINT IMAGE USER PASSWORD\n"); return 2; }
  soap *s = soap_new1(SOAP_C_UTFSTRING | SOAP_ENC_MTOM);
  std::ifstream in(argv[2], std::ios::binary);
  std::vector<unsigned char> image((std::istreambuf_iterator<char>(in)), {});

  auto started = std::chrono::steady_clock::now();
  xsd__base64Binary content;
  content.__ptr = image.data();
  content.__size = (int)image.size();
  content.id = NULL;  // gSOAP makes up a Content-ID
  content.type = (char *)"image/png";
  content.options = NULL;
  _ns1__UploadImage up; up.filename = "big.png"; up.content = content; up.content_USCOREtype = NULL;
  _ns1__UploadImageResponse upr;
  s->userid = argv[3]; s->passwd = argv[4];
  if (soap_call___ns1__UploadImage(s, argv[1], NULL, &up, upr) != SOAP_OK) return fail(s);
  std::string sha = upr.UploadImageResult->sha256;
  long long size = upr.UploadImageResult->size_USCOREbytes;
  std::string image_id = upr.UploadImageResult->image_USCOREid;
  auto uploaded = std::chrono::steady_clock::now();
  soap_destroy(s); soap_end(s);

  _ns1__GetImage get; get.image_USCOREid = image_id;
  _ns1__GetImageResponse got;
  s->userid = argv[3]; s->passwd = argv[4];
  if (soap_call___ns1__GetImage(s, argv[1], NULL, &get, got) != SOAP_OK) return fail(s);
  auto downloaded = std::chrono::steady_clock::now();
  xsd__base64Binary &back = got.GetImageResult->content;
  using ms = std::chrono::milliseconds;
  printf("{\"sha256\":\"%s\",\"size_bytes\":%lld,\"back_sha256\":\"%s\",\"back_was_attachment\":%s,"
         "\"upload_ms\":%lld,\"download_ms\":%lld}\n",
         sha.c_str(), size, hex_sha256(back.__ptr, back.__size).c_str(), back.id ? "true" : "false",
         (long long)std::chrono::duration_cast<ms>(uploaded - started).count(),
         (long long)std::chrono::duration_cast<ms>(downloaded - uploaded).count());
  soap_destroy(s); soap_end(s); soap_free(s);
  return 0;
}
