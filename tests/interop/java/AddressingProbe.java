// What the JAX-WS RI sends and checks of WS-Addressing, with and without AddressingFeature.
// Usage: java AddressingProbe STUB_URL
//
// Greet("Ada") on the port opened two ways, as the JAX-WS documentation shows them:
// Port.open() (no feature: what the WSDL's optional wsam:Addressing policy turns on) and
// Port.open(new AddressingFeature(true, true)) (enabled and required). Each call goes to
// a stub in front of the service (test_jaxws.py) that records the request and hands the
// service's reply back as served, without wsa:RelatesTo, or without wsa:Action: the stub's
// address is set with BindingProvider.ENDPOINT_ADDRESS_PROPERTY: STUB_URL/<mode>/<shape><the
// WSDL address's path>. Prints one JSON object: {"default"|"addressing": {shape: outcome}},
// the outcome being the greeting or "<exception class>: <message>". The RI refuses a reply
// that lacks a header it requires with a ServerSOAPFaultException of its own making, and
// names the header in its log (stderr): "Problem header:{...addressing}RelatesTo".
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.xml.ws.BindingProvider;
import javax.xml.ws.soap.AddressingFeature;
import service.soap.v1.SoapServicePortType;

public class AddressingProbe {
  public static void main(String[] args) throws Exception {
    Map<String, Object> report = new LinkedHashMap<>();
    for (String mode : new String[] {"default", "addressing"}) {
      Map<String, Object> outcomes = new LinkedHashMap<>();
      for (String shape : new String[] {"as_served", "no_relates_to", "no_action"}) {
        SoapServicePortType port = mode.equals("addressing")
            ? Port.open(new AddressingFeature(true, true)) : Port.open();
        Map<String, Object> context = ((BindingProvider) port).getRequestContext();
        String path = new URI((String) context.get(BindingProvider.ENDPOINT_ADDRESS_PROPERTY)).getPath();
        context.put(BindingProvider.ENDPOINT_ADDRESS_PROPERTY, args[0] + "/" + mode + "/" + shape + path);
        try {
          outcomes.put(shape, port.greet("Ada"));
        } catch (Exception e) {
          outcomes.put(shape, e.getClass().getName() + ": " + e.getMessage());
        }
      }
      report.put(mode, outcomes);
    }
    System.out.println(Driver.json(report));
  }
}
