// Why MtomDriver.cs builds a CustomBinding: WCF's stock BasicHttpBinding set up for MTOM, with
// the largest reader quotas and message sizes, as WCF documents it. Mono's BasicHttpBinding
// does not copy ReaderQuotas to its MTOM encoder, so reading back a 10 MiB image fails.
// Usage: mono mtomquota.exe ENDPOINT(SOAP 1.1) IMAGE USER PASSWORD
// Prints {"uploaded": size_bytes, "error": what GetImage threw, "" if nothing}.
using System;
using System.IO;
using System.ServiceModel;
using System.Text;
using System.Xml;

static class MtomQuotaProbe
{
    static int Main(string[] args)
    {
        var binding = new BasicHttpBinding(BasicHttpSecurityMode.TransportCredentialOnly);
        binding.Security.Transport.ClientCredentialType = HttpClientCredentialType.Basic;
        binding.MessageEncoding = WSMessageEncoding.Mtom;
        binding.ReaderQuotas = XmlDictionaryReaderQuotas.Max;
        binding.MaxReceivedMessageSize = 64L * 1024 * 1024;
        binding.MaxBufferSize = 64 * 1024 * 1024;
        binding.SendTimeout = binding.ReceiveTimeout = TimeSpan.FromMinutes(5);
        var api = new SoapServicePortTypeClient(binding, new EndpointAddress(args[0]));
        api.ClientCredentials.UserName.UserName = args[2];
        api.ClientCredentials.UserName.Password = args[3];
        var receipt = api.UploadImage("big.png", File.ReadAllBytes(args[1]), "image/png");
        var error = "";
        try { api.GetImage(receipt.image_id); }
        catch (Exception e) { error = e.GetType().FullName + ": " + e.Message; }
        var b = new StringBuilder("{\"uploaded\":" + receipt.size_bytes + ",\"error\":\"");
        foreach (char c in error)
        {
            if (c == '"' || c == '\\') b.Append('\\').Append(c);
            else if (c < 0x20) b.AppendFormat("\\u{0:x4}", (int)c);
            else b.Append(c);
        }
        Console.WriteLine(b.Append("\"}").ToString());
        return 0;
    }
}
