// JAX-WS RI driver, compiled against the classes wsimport generates from the served WSDL
// (GET /soap?wsdl). Usage: java Driver PNG TEXT USER PASSWORD [addressing]
//
// The port is the generated service's generated getter, as the JAX-WS documentation shows:
// Port.open() is `new SoapService().getSoapServiceSoap11()` (Soap11Port.java, wsimport's
// default options) or `new SoapService().getSoapServiceSoap12()` (Soap12Port.java, which
// wsimport generates only with -extension). No endpoint override: the address is the
// WSDL's. HTTP Basic is BindingProvider's USERNAME_PROPERTY / PASSWORD_PROPERTY.
//
// WS-Addressing: with the argument "addressing" the port is opened with the feature enabled
// and required, as the JAX-WS documentation shows it:
// `new SoapService().getSoapServiceSoap11(new AddressingFeature(true, true))` (or Soap12).
// Without it the RI still addresses every call, because the WSDL's bindings carry an optional
// wsam:Addressing policy (test_jaxws.py shows both on the wire).
//
// JAX-WS surfaces a declared fault as its generated checked exception (ValidationFault,
// ImageRejectedFault) with the typed detail as getFaultInfo(); the exception type is the
// code, so the report's "code" is the exception's class name.
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.security.MessageDigest;
import javax.xml.ws.BindingProvider;
import javax.xml.ws.soap.AddressingFeature;
import service.soap.v1.ImageData;
import service.soap.v1.ImagePage;
import service.soap.v1.ImageReceipt;
import service.soap.v1.ImageRejectedFault;
import service.soap.v1.NotFoundFault;
import service.soap.v1.Person;
import service.soap.v1.RequestDescription;
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
    } catch (NotFoundFault f) {
      out.put("code", f.getClass().getSimpleName());
      out.put("image_id", f.getFaultInfo().getImageId());
      return out;
    }
    throw new AssertionError("expected a declared fault");
  }

  static String sha256(byte[] data) throws Exception {
    StringBuilder b = new StringBuilder();
    for (byte x : MessageDigest.getInstance("SHA-256").digest(data)) b.append(String.format("%02x", x));
    return b.toString();
  }

  public static void main(String[] args) throws Exception {
    boolean addressing = args.length > 4 && args[4].equals("addressing");
    final SoapServicePortType api =
        addressing ? Port.open(new AddressingFeature(true, true)) : Port.open();
    Map<String, Object> request = ((BindingProvider) api).getRequestContext();
    request.put(BindingProvider.USERNAME_PROPERTY, args[2]);  // HTTP Basic
    request.put(BindingProvider.PASSWORD_PROPERTY, args[3]);

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
    byte[] png = Files.readAllBytes(Paths.get(args[0]));
    ImageReceipt r = api.uploadImage("picture.png", png, null);  // byte[] for base64Binary
    Map<String, Object> upload = new LinkedHashMap<>();
    upload.put("image_id", r.getImageId());
    upload.put("sha256", r.getSha256());
    upload.put("size_bytes", r.getSizeBytes());
    upload.put("format", r.getFormat());
    upload.put("width", r.getWidth());
    upload.put("height", r.getHeight());
    report.put("upload", upload);
    String token = null;
    search:
    for (;;) {
      ImagePage page = api.listImages(100, token);
      if (page.getImages() != null) {
        for (ImageReceipt i : page.getImages().getImageReceipt()) {
          if (i.getImageId().equals(r.getImageId())) {
            Map<String, Object> listed = new LinkedHashMap<>();
            listed.put("image_id", i.getImageId());
            listed.put("sha256", i.getSha256());
            listed.put("size_bytes", i.getSizeBytes());
            report.put("listed", listed);
            break search;
          }
        }
      }
      token = page.getNextPageToken();
      if (token == null) throw new AssertionError("ListImages never showed " + r.getImageId());
    }
    ImageData got = api.getImage(r.getImageId());
    byte[] content = got.getContent();  // byte[] for base64Binary, as for the upload
    Map<String, Object> image = new LinkedHashMap<>();
    image.put("image_id", got.getImageId());
    image.put("filename", got.getFilename());
    image.put("sha256", sha256(content));
    image.put("size_bytes", content.length);
    report.put("image", image);
    report.put("fault_validation", fault(() -> api.greet(" ")));
    Person old = new Person();
    old.setFirstName("A"); old.setLastName("B"); old.setAge(200);
    report.put("fault_age", fault(() -> api.echoPerson(old)));
    report.put("fault_zone", fault(() -> api.getTime("Mars/Olympus_Mons")));
    byte[] text = Files.readAllBytes(Paths.get(args[1]));
    report.put("fault_image", fault(() -> api.uploadImage("n.png", text, null)));
    // the two operations the shared scenario leaves out: what the server saw, and a delete
    RequestDescription seen = api.describeRequest();
    Map<String, Object> describe = new LinkedHashMap<>();
    describe.put("soap_version", seen.getSoapVersion());
    describe.put("soap_action", seen.getSoapAction());
    describe.put("soap_headers", new ArrayList<Object>(seen.getSoapHeaders().getString()));
    report.put("describe", describe);
    ImageReceipt deleted = api.deleteImage(r.getImageId());
    report.put("delete", Map.of("image_id", deleted.getImageId()));
    report.put("fault_gone", fault(() -> api.getImage(r.getImageId())));
    System.out.println(json(report));
  }
}
