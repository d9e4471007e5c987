// The gSOAP reference server: the contract's operations as gSOAP users write them,
// from the code wsdl2h + soapcpp2 generate from wsdl/service.wsdl with default flags.
// A thread per connection with HTTP keep-alive (the gSOAP guide's multi-threaded
// server). It answers SOAP 1.1 and 1.2 (gSOAP replies in the request's version).
// Usage: server PORT (0 picks one); prints "listening on PORT" when it accepts.
#include "soapH.h"
#include "SoapServiceSoap11Binding.nsmap"

#include <arpa/inet.h>
#include <pthread.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

#include <openssl/sha.h>

static std::string hex_sha256(const unsigned char *p, size_t n) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(p, n, d);
  static const char digits[] = "0123456789abcdef";
  std::string out(2 * SHA256_DIGEST_LENGTH, '0');
  for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
    out[2 * i] = digits[d[i] >> 4];
    out[2 * i + 1] = digits[d[i] & 15];
  }
  return out;
}

static void *serve_connection(void *arg) {
  soap *t = static_cast<soap *>(arg);
  pthread_detach(pthread_self());
  soap_serve(t);
  soap_destroy(t);
  soap_end(t);
  soap_free(t);
  return NULL;
}

int main(int argc, char **argv) {
  int port = argc > 1 ? atoi(argv[1]) : 0;
  soap *s = soap_new1(SOAP_C_UTFSTRING | SOAP_IO_KEEPALIVE);
  s->bind_flags = SO_REUSEADDR;
  s->max_keep_alive = 0;  // keep connections open as long as the client does
  s->recv_timeout = s->send_timeout = 60;
  if (!soap_valid_socket(soap_bind(s, "127.0.0.1", port, 1024))) {
    soap_print_fault(s, stderr);
    return 1;
  }
  sockaddr_in bound{};
  socklen_t len = sizeof bound;
  getsockname(s->master, reinterpret_cast<sockaddr *>(&bound), &len);
  printf("listening on %d\n", ntohs(bound.sin_port));
  fflush(stdout);
  for (;;) {
    if (!soap_valid_socket(soap_accept(s))) continue;
    soap *t = soap_copy(s);
    pthread_t tid;
    if (!t || pthread_create(&tid, NULL, serve_connection, t) != 0) soap_force_closesock(s);
  }
}

int __ns1__Greet(soap *s, _ns1__Greet *in, _ns1__GreetResponse &out) {
  out.GreetResult = "Hello, " + in->name + "!";
  return SOAP_OK;
}

int __ns1__GetTime(soap *s, _ns1__GetTime *in, _ns1__GetTimeResponse &out) {
  out.GetTimeResult = soap_new_ns1__TimeInfo(s);
  out.GetTimeResult->utc = out.GetTimeResult->local = time(NULL);
  out.GetTimeResult->timezone = in->timezone ? *in->timezone : "UTC";
  return SOAP_OK;
}

int __ns1__EchoPerson(soap *s, _ns1__EchoPerson *in, _ns1__EchoPersonResponse &out) {
  out.EchoPersonResult = in->person;
  return SOAP_OK;
}

int __ns1__UploadImage(soap *s, _ns1__UploadImage *in, _ns1__UploadImageResponse &out) {
  ns1__ImageReceipt *r = soap_new_ns1__ImageReceipt(s);
  r->image_USCOREid = "0";
  r->sha256 = hex_sha256(in->content.__ptr, in->content.__size);
  r->size_USCOREbytes = in->content.__size;
  r->format = "png";
  r->received_USCOREat = time(NULL);
  out.UploadImageResult = r;
  return SOAP_OK;
}

// Not benchmarked: a fault, as for any operation a reference does not serve.
static int unsupported(soap *s) { return soap_receiver_fault(s, "not in the benchmark", NULL); }
int __ns1__GetImage(soap *s, _ns1__GetImage *, _ns1__GetImageResponse &) { return unsupported(s); }
int __ns1__ListImages(soap *s, _ns1__ListImages *, _ns1__ListImagesResponse &) {
  return unsupported(s);
}
int __ns1__DeleteImage(soap *s, _ns1__DeleteImage *, _ns1__DeleteImageResponse &) {
  return unsupported(s);
}
int __ns1__DescribeRequest(soap *s, _ns1__DescribeRequest *, _ns1__DescribeRequestResponse &) {
  return unsupported(s);
}
// The SOAP 1.2 binding's operations: the same code.
int __ns1__Greet_(soap *s, _ns1__Greet *i, _ns1__GreetResponse &o) { return __ns1__Greet(s, i, o); }
int __ns1__GetTime_(soap *s, _ns1__GetTime *i, _ns1__GetTimeResponse &o) {
  return __ns1__GetTime(s, i, o);
}
int __ns1__EchoPerson_(soap *s, _ns1__EchoPerson *i, _ns1__EchoPersonResponse &o) {
  return __ns1__EchoPerson(s, i, o);
}
int __ns1__UploadImage_(soap *s, _ns1__UploadImage *i, _ns1__UploadImageResponse &o) {
  return __ns1__UploadImage(s, i, o);
}
int __ns1__GetImage_(soap *s, _ns1__GetImage *i, _ns1__GetImageResponse &o) {
  return __ns1__GetImage(s, i, o);
}
int __ns1__ListImages_(soap *s, _ns1__ListImages *i, _ns1__ListImagesResponse &o) {
  return __ns1__ListImages(s, i, o);
}
int __ns1__DeleteImage_(soap *s, _ns1__DeleteImage *i, _ns1__DeleteImageResponse &o) {
  return __ns1__DeleteImage(s, i, o);
}
int __ns1__DescribeRequest_(soap *s, _ns1__DescribeRequest *i, _ns1__DescribeRequestResponse &o) {
  return __ns1__DescribeRequest(s, i, o);
}

// The contract declares WS-Addressing (wsam:Action), so wsdl2h generates the service
// operation that receives faults sent to a FaultTo address; gSOAP's WS-Addressing guide
// has every server define it. This reference server never gets one: answer nothing.
int SOAP_ENV__Fault(soap *s, char *, char *, char *, SOAP_ENV__Detail *, SOAP_ENV__Code *,
                    SOAP_ENV__Reason *, char *, char *, SOAP_ENV__Detail *) {
  return soap_send_empty_response(s, SOAP_OK);
}
