// gSOAP driver: compiled against the code wsdl2h + soapcpp2 generate from the contract
// with their default flags, used as generated: the generated .nsmap as it is (SOAP 1.2,
// since the contract has a SOAP 1.2 port), the soap_call_* stubs of the first binding,
// the endpoint as the stubs' endpoint argument, HTTP Basic as soap->userid/passwd.
// Usage: driver ENDPOINT PNG TEXT USER PASSWORD
#include "soapH.h"
#include "SoapServiceSoap11Binding.nsmap"

#include <openssl/sha.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

static std::string esc(const std::string &s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') { out += '\\'; out += c; }
    else if (c < 0x20) { char b[8]; snprintf(b, sizeof b, "\\u%04x", c); out += b; }
    else out += c;
  }
  return "\"" + out + "\"";
}

static std::vector<unsigned char> slurp(const char *path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<unsigned char>(std::istreambuf_iterator<char>(in), {});
}

static std::string hex_sha256(const unsigned char *p, size_t n) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(p, n, d);
  std::string out;
  char b[3];
  for (unsigned char c : d) { snprintf(b, sizeof b, "%02x", c); out += b; }
  return out;
}

static std::string iso_utc(time_t t) {
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
  return buf;
}

struct Ctx {
  soap *s;
  const char *endpoint;
  const char *user, *password;
  // gSOAP clears userid/passwd after each call, so HTTP Basic is set again every time.
  void reset() { soap_destroy(s); soap_end(s); s->userid = user; s->passwd = password; }
};

static std::string fault_json(soap *s) {
  const char *code = *soap_faultcode(s);
  const char **sub = soap_faultsubcode(s);
  std::string c = code ? code : "";
  if (sub && *sub && (!code || strcmp(*sub, code) != 0)) c += std::string(".") + *sub;
  SOAP_ENV__Detail *d = s->fault ? (s->fault->detail ? s->fault->detail : s->fault->SOAP_ENV__Detail) : nullptr;
  std::ostringstream o;
  o << "{\"code\":" << esc(c);
  if (d && d->ns1__ValidationFaultDetail_)
    o << ",\"field\":" << esc(d->ns1__ValidationFaultDetail_->field) << ",\"reason\":" << esc(d->ns1__ValidationFaultDetail_->reason);
  if (d && d->ns1__ImageRejectedFaultDetail_)
    o << ",\"reason\":" << esc(soap_ns1__ImageRejectionReason2s(s, d->ns1__ImageRejectedFaultDetail_->reason))
      << ",\"message\":" << esc(d->ns1__ImageRejectedFaultDetail_->message);
  o << "}";
  return o.str();
}

static bool fail(soap *s) { soap_print_fault(s, stderr); return false; }

int main(int argc, char **argv) {
  if (argc != 6) { fprintf(stderr, "usage: driver ENDPOINT PNG TEXT USER PASSWORD\n"); return 2; }
  Ctx x{soap_new1(SOAP_C_UTFSTRING), argv[1], argv[4], argv[5]};
  soap *s = x.s;
  x.reset();
  std::ostringstream r;

  _ns1__Greet greet; greet.name = "Ada";
  _ns1__GreetResponse greeted;
  if (soap_call___ns1__Greet(s, x.endpoint, NULL, &greet, greeted) != SOAP_OK) return fail(s), 1;
  r << "{\"greet\":" << esc(greeted.GreetResult);
  x.reset();

  _ns1__GetTime t0; t0.timezone = NULL;
  _ns1__GetTimeResponse t0r;
  if (soap_call___ns1__GetTime(s, x.endpoint, NULL, &t0, t0r) != SOAP_OK) return fail(s), 1;
  // gSOAP maps xs:dateTime to time_t: an instant, without the zone's offset.
  r << ",\"time_default\":{\"timezone\":" << esc(t0r.GetTimeResult->timezone) << ",\"utc\":" << esc(iso_utc(t0r.GetTimeResult->utc)) << "}";
  x.reset();

  std::string zone = "Asia/Kolkata";
  _ns1__GetTime t1; t1.timezone = &zone;
  _ns1__GetTimeResponse t1r;
  if (soap_call___ns1__GetTime(s, x.endpoint, NULL, &t1, t1r) != SOAP_OK) return fail(s), 1;
  r << ",\"time_zone\":{\"timezone\":" << esc(t1r.GetTimeResult->timezone) << ",\"local\":" << esc(iso_utc(t1r.GetTimeResult->local)) << "}";
  x.reset();

  const char *people[2][2] = {{"Zo\xc3\xab", "\xc3\x91\xc3\xba\xc3\xb1" "ez-\xe6\x9d\x8e"}, {"Ada", "Lovelace"}};
  int ages[2] = {0, 150};
  r << ",\"echo\":[";
  for (int i = 0; i < 2; i++) {
    ns1__Person p; p.first_USCOREname = people[i][0]; p.last_USCOREname = people[i][1]; p.age = ages[i];
    _ns1__EchoPerson e; e.person = &p;
    _ns1__EchoPersonResponse er;
    if (soap_call___ns1__EchoPerson(s, x.endpoint, NULL, &e, er) != SOAP_OK) return fail(s), 1;
    r << (i ? "," : "") << "[" << esc(er.EchoPersonResult->first_USCOREname) << "," << esc(er.EchoPersonResult->last_USCOREname) << "," << er.EchoPersonResult->age << "]";
    x.reset();
  }
  r << "]";

  std::vector<unsigned char> png = slurp(argv[2]);
  xsd__base64Binary content; content.__ptr = png.data(); content.__size = (int)png.size();
  _ns1__UploadImage up; up.filename = "picture.png"; up.content = content; up.content_USCOREtype = NULL;
  _ns1__UploadImageResponse upr;
  if (soap_call___ns1__UploadImage(s, x.endpoint, NULL, &up, upr) != SOAP_OK) return fail(s), 1;
  ns1__ImageReceipt *rc = upr.UploadImageResult;
  std::string image_id = rc->image_USCOREid;
  r << ",\"upload\":{\"image_id\":" << esc(image_id) << ",\"sha256\":" << esc(rc->sha256) << ",\"size_bytes\":" << rc->size_USCOREbytes
    << ",\"format\":" << esc(rc->format) << ",\"width\":" << rc->width << ",\"height\":" << rc->height << "}";
  x.reset();

  // ListImages, a page of 100 at a time, until the upload shows
  std::string token;
  bool listed = false;
  while (!listed) {
    int size = 100;
    _ns1__ListImages li; li.page_USCOREsize = &size; li.page_USCOREtoken = token.empty() ? NULL : &token;
    _ns1__ListImagesResponse lr;
    if (soap_call___ns1__ListImages(s, x.endpoint, NULL, &li, lr) != SOAP_OK) return fail(s), 1;
    for (ns1__ImageReceipt *i : lr.ListImagesResult->images->ImageReceipt) {
      if (i->image_USCOREid != image_id) continue;
      r << ",\"listed\":{\"image_id\":" << esc(i->image_USCOREid) << ",\"sha256\":" << esc(i->sha256)
        << ",\"size_bytes\":" << i->size_USCOREbytes << "}";
      listed = true;
    }
    std::string *next = lr.ListImagesResult->next_USCOREpage_USCOREtoken;
    if (!listed && !next) { fprintf(stderr, "ListImages never showed %s\n", image_id.c_str()); return 1; }
    if (next) token = *next;
    x.reset();
  }

  // GetImage: the content as gSOAP's xsd__base64Binary, bytes at __ptr, __size of them
  _ns1__GetImage get; get.image_USCOREid = image_id;
  _ns1__GetImageResponse got;
  if (soap_call___ns1__GetImage(s, x.endpoint, NULL, &get, got) != SOAP_OK) return fail(s), 1;
  ns1__ImageData *img = got.GetImageResult;
  r << ",\"image\":{\"image_id\":" << esc(img->image_USCOREid) << ",\"filename\":" << esc(img->filename)
    << ",\"sha256\":" << esc(hex_sha256(img->content.__ptr, (size_t)img->content.__size))
    << ",\"size_bytes\":" << img->content.__size << "}";
  x.reset();

  _ns1__Greet blank; blank.name = " ";
  if (soap_call___ns1__Greet(s, x.endpoint, NULL, &blank, greeted) != SOAP_FAULT) return fail(s), 1;
  r << ",\"fault_validation\":" << fault_json(s);
  x.reset();

  ns1__Person old; old.first_USCOREname = "A"; old.last_USCOREname = "B"; old.age = 200;
  _ns1__EchoPerson eo; eo.person = &old;
  _ns1__EchoPersonResponse eor;
  if (soap_call___ns1__EchoPerson(s, x.endpoint, NULL, &eo, eor) != SOAP_FAULT) return fail(s), 1;
  r << ",\"fault_age\":" << fault_json(s);
  x.reset();

  std::string mars = "Mars/Olympus_Mons";
  _ns1__GetTime tm; tm.timezone = &mars;
  if (soap_call___ns1__GetTime(s, x.endpoint, NULL, &tm, t1r) != SOAP_FAULT) return fail(s), 1;
  r << ",\"fault_zone\":" << fault_json(s);
  x.reset();

  std::vector<unsigned char> text = slurp(argv[3]);
  xsd__base64Binary tc; tc.__ptr = text.data(); tc.__size = (int)text.size();
  _ns1__UploadImage ut; ut.filename = "n.png"; ut.content = tc; ut.content_USCOREtype = NULL;
  if (soap_call___ns1__UploadImage(s, x.endpoint, NULL, &ut, upr) != SOAP_FAULT) return fail(s), 1;
  r << ",\"fault_image\":" << fault_json(s);
  r << "}";
  printf("%s\n", r.str().c_str());
  soap_destroy(s); soap_end(s); soap_free(s);
  return 0;
}
