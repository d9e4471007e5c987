// JAX-WS RI driver, compiled against the classes wsimport generates from the contract
// with default options. Usage: java Driver WSDL ENDPOINT SOAP_VERSION(1.1|1.2) PNG TEXT USER PASSWORD
//
// wsimport generates a getter for the SOAP 1.1 port only unless given -extension (JAX-WS
// treats SOAP 1.2 in a WSDL as an extension); the runtime still reads the SOAP 1.2 port
// from the WSDL, so the driver asks for it by name with the same generated interface.
//
// JAX-WS surfaces a declared fault as its generated checked exception (ValidationFault,
// ImageRejectedFault) with the typed detail as getFaultInfo(); the exception type is the
// code, so the report's "code" is the exception's class name.
import java.io.File;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.xml.namespace.QName;
import javax.xml.ws.BindingProvider;
import service.soap.v1.ImageReceipt;
import service.soap.v1.ImageRejectedFault;
import service.soap.v1.Person;
import service.soap.v1.SoapService;
import service.soap.v1.SoapServicePortType;
import service.soap.v1.TimeInfo;
import service.soap.v1.ValidationFault;

public class Driver {
  interface Call { void run() throws Exception; }

  static String json(Object value) {
    if (value == null) return "null";
    if (value instanceof Number) return value.toString();
    if (value instanceof Map) {
      StringBuilder b = new StringBuilder("{");
      for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
        if (b.length() > 1) b.append(',');
        b.append(json(e.getKey().toString())).append(':').append(json(e.getValue()));
      }
      return b.append('}').toString();
    }
    if (value instanceof List) {
      StringBuilder b = new StringBuilder("[");
      for (Object o : (List<?>) value) { if (b.length() > 1) b.append(','); b.append(json(o)); }
      return b.append(']').toString();
    }
    StringBuilder b = new StringBuilder("\"");
    for (char c : value.toString().toCharArray()) {
      if (c == '"' || c == '\\') b.append('\\').append(c);
      else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
      else b.append(c);
    }
    return b.append('"').toString();
  }

  static Map<String, Object> fault(Call call) throws Exception {
    Map<String, Object> out = new LinkedHashMap<>();
    try {
      call.run();
    } catch (ValidationFault f) {
      out.put("code", f.getClass().getSimpleName());
      out.put("field", f.getFaultInfo().getField());
      out.put("reason", f.getFaultInfo().getReason());
      return out;
    } catch (ImageRejectedFault f) {
      out.put("code", f.getClass().getSimpleName());
      out.put("reason", f.getFaultInfo().getReason().value());
      out.put("message", f.getFaultInfo().getMessage());
      return out;
    }
    throw new AssertionError("expected a declared fault");
  }

  public static void main(String[] args) throws Exception {
    URL wsdl = new File(args[0]).toURI().toURL();
    String endpoint = args[1];
    SoapService service = new SoapService(wsdl);
    SoapServicePortType port;
    if (args[2].equals("1.2")) {
      port = service.getPort(new QName("urn:soap-service:v1", "SoapServiceSoap12"),
                             SoapServicePortType.class);
    } else {
      port = service.getSoapServiceSoap11();
    }
    Map<String, Object> request = ((BindingProvider) port).getRequestContext();
    request.put(BindingProvider.ENDPOINT_ADDRESS_PROPERTY, endpoint);
    request.put(BindingProvider.USERNAME_PROPERTY, args[5]);  // HTTP Basic
    request.put(BindingProvider.PASSWORD_PROPERTY, args[6]);
    final SoapServicePortType api = port;

    Map<String, Object> report = new LinkedHashMap<>();
    report.put("greet", api.greet("Ada"));
    TimeInfo t0 = api.getTime(null);
    report.put("time_default", Map.of("timezone", t0.getTimezone(), "utc", t0.getUtc().toXMLFormat()));
    TimeInfo t1 = api.getTime("Asia/Kolkata");
    report.put("time_zone", Map.of("timezone", t1.getTimezone(), "local", t1.getLocal().toXMLFormat()));
    Object[][] people = {{"Zo\u00eb", "\u00d1\u00fa\u00f1ez-\u674e", 0}, {"Ada", "Lovelace", 150}};
    List<Object> echoed = new ArrayList<>();
    for (Object[] p : people) {
      Person person = new Person();
      person.setFirstName((String) p[0]);
      person.setLastName((String) p[1]);
      person.setAge((Integer) p[2]);
      Person back = api.echoPerson(person);
      echoed.add(List.of(back.getFirstName(), back.getLastName(), back.getAge()));
    }
    report.put("echo", echoed);
    byte[] png = Files.readAllBytes(Paths.get(args[3]));
    ImageReceipt r = api.uploadImage("picture.png", png, null);  // byte[] for base64Binary
    Map<String, Object> upload = new LinkedHashMap<>();
    upload.put("sha256", r.getSha256());
    upload.put("size_bytes", r.getSizeBytes());
    upload.put("format", r.getFormat());
    upload.put("width", r.getWidth());
    upload.put("height", r.getHeight());
    report.put("upload", upload);
    report.put("fault_validation", fault(() -> api.greet(" ")));
    Person old = new Person();
    old.setFirstName("A"); old.setLastName("B"); old.setAge(200);
    report.put("fault_age", fault(() -> api.echoPerson(old)));
    report.put("fault_zone", fault(() -> api.getTime("Mars/Olympus_Mons")));
    byte[] text = Files.readAllBytes(Paths.get(args[4]));
    report.put("fault_image", fault(() -> api.uploadImage("n.png", text, null)));
    System.out.println(json(report));
  }
}
