// JAX-WS RI over MTOM: the same generated classes as Driver.java, with MTOMFeature on.
// Usage: java MtomDriver WSDL ENDPOINT SOAP_VERSION(1.1|1.2) IMAGE USER PASSWORD
//
// MTOMFeature(true, 0): every base64Binary value goes as an XOP attachment, whatever
// its size. The service answers in kind, so GetImage's content comes back as a part.
import java.io.File;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.util.Map;
import javax.xml.namespace.QName;
import javax.xml.ws.BindingProvider;
import javax.xml.ws.soap.MTOMFeature;
import service.soap.v1.ImageData;
import service.soap.v1.ImageReceipt;
import service.soap.v1.SoapService;
import service.soap.v1.SoapServicePortType;

public class MtomDriver {
  static String sha256(byte[] data) throws Exception {
    StringBuilder b = new StringBuilder();
    for (byte x : MessageDigest.getInstance("SHA-256").digest(data)) b.append(String.format("%02x", x));
    return b.toString();
  }

  public static void main(String[] args) throws Exception {
    SoapService service = new SoapService(new File(args[0]).toURI().toURL());
    MTOMFeature mtom = new MTOMFeature(true, 0);
    SoapServicePortType port = args[2].equals("1.2")
        ? service.getPort(new QName("urn:soap-service:v1", "SoapServiceSoap12"),
                          SoapServicePortType.class, mtom)
        : service.getSoapServiceSoap11(mtom);
    Map<String, Object> request = ((BindingProvider) port).getRequestContext();
    request.put(BindingProvider.ENDPOINT_ADDRESS_PROPERTY, args[1]);
    request.put(BindingProvider.USERNAME_PROPERTY, args[4]);
    request.put(BindingProvider.PASSWORD_PROPERTY, args[5]);
    byte[] image = Files.readAllBytes(Paths.get(args[3]));
    long started = System.nanoTime();
    ImageReceipt receipt = port.uploadImage("big.png", image, "image/png");
    long uploaded = System.nanoTime();
    ImageData back = port.getImage(receipt.getImageId());
    long downloaded = System.nanoTime();
    System.out.println("{\"sha256\":\"" + receipt.getSha256() + "\",\"size_bytes\":"
        + receipt.getSizeBytes() + ",\"back_sha256\":\"" + sha256(back.getContent())
        + "\",\"upload_ms\":" + (uploaded - started) / 1000000
        + ",\"download_ms\":" + (downloaded - uploaded) / 1000000 + "}");
  }
}
