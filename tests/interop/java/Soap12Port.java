// The port as JAX-WS documents it: the generated service's generated getter, with the
// WSDL location and the port's address wsimport read from the served WSDL.
// wsimport generates getSoapServiceSoap12() only with -extension.
import javax.xml.ws.WebServiceFeature;
import service.soap.v1.SoapService;
import service.soap.v1.SoapServicePortType;

class Port {
  static SoapServicePortType open(WebServiceFeature... features) {
    return new SoapService().getSoapServiceSoap12(features);
  }
}
