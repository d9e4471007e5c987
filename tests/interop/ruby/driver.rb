# Ruby soap4r driver: a client from the served WSDL, as soap4r's documentation shows it.
# Usage: ruby driver.rb WSDL_URL PNG TEXT USER PASSWORD
#
# SOAP::WSDLDriverFactory.new(wsdl_url).create_rpc_driver, no options: the driver binds to
# the WSDL's first SOAP port it reads. HTTP Basic is soap4r's own property,
# driver.options["protocol.http.basic_auth"] << [endpoint, user, password] (httpclient
# answers the server's 401 challenge with it). Calls take the request wrapper's fields as a
# Hash and return a SOAP::Mapping::Object whose accessors are the response's elements;
# xs:base64Binary goes out from and comes back as a Ruby String of bytes. A SOAP fault is
# raised as SOAP::FaultError: faultcode, faultstring and detail (the <detail> element as a
# SOAP::Mapping::Object, the declared detail element inside it).
require 'digest'
require 'json'
require 'soap/wsdlDriver'

wsdl_url, png_path, text_path, user, password = ARGV

driver = SOAP::WSDLDriverFactory.new(wsdl_url).create_rpc_driver
driver.options["protocol.http.basic_auth"] << [driver.endpoint_url, user, password]
driver.wiredump_dev = STDERR if ENV["SOAP4R_WIREDUMP"]

def fault
  yield
  raise "expected a SOAP fault"
rescue SOAP::FaultError => e
  detail = e.detail
  # the <detail> element's one child: the declared detail (ValidationFaultDetail, ...)
  name, body = detail.__xmlele.first
  {
    "code" => e.faultcode.text,  # the SOAP 1.1 faultcode as sent: soap:Client.Validation
    "string" => e.faultstring.text,
    "detail_element" => name.name,
    "field" => (body.field rescue nil),
    "reason" => body.reason.to_s,
  }
end

report = {}
report["endpoint"] = driver.endpoint_url
report["greet"] = driver.greet(:name => "Ada").greetResult
described = driver.describeRequest({}).describeRequestResult
report["soap_version"] = described.soap_version
report["accept"] = [described.headers.httpHeader].flatten.compact
  .select { |h| h.name.casecmp?("accept") }.map(&:value).first
t0 = driver.getTime({}).getTimeResult
report["time_default"] = { "timezone" => t0.timezone, "utc" => t0.utc.to_s }
t1 = driver.getTime(:timezone => "Asia/Kolkata").getTimeResult
report["time_zone"] = { "timezone" => t1.timezone, "local" => t1.local.to_s }
people = [["Zoë", "Ñúñez-李", 0], ["Ada", "Lovelace", 150]]
report["echo"] = people.map do |first, last, age|
  back = driver.echoPerson(:person => { :first_name => first, :last_name => last, :age => age }).echoPersonResult
  [back.first_name, back.last_name, Integer(back.age)]
end

png = File.binread(png_path)  # a String of bytes, as soap4r takes xs:base64Binary
r = driver.uploadImage(:filename => "picture.png", :content => png).uploadImageResult
report["upload"] = {
  "image_id" => r.image_id, "sha256" => r.sha256, "size_bytes" => Integer(r.size_bytes),
  "format" => r.format, "width" => Integer(r.width), "height" => Integer(r.height),
}

listed = {}
token = nil
loop do
  request = { :page_size => 100 }
  request[:page_token] = token if token
  page = driver.listImages(request).listImagesResult
  receipts = page.images.respond_to?(:imageReceipt) ? [page.images.imageReceipt].flatten.compact : []
  found = receipts.find { |each| each.image_id == r.image_id }
  if found
    listed = { "image_id" => found.image_id, "sha256" => found.sha256, "size_bytes" => Integer(found.size_bytes) }
    break
  end
  token = page.respond_to?(:next_page_token) ? page.next_page_token : nil
  break if token.nil? || token.to_s.empty?
end
report["listed"] = listed

got = driver.getImage(:image_id => r.image_id).getImageResult
# The dynamic driver hands every simple-typed leaf of a literal response over as its text
# (xs:int "64", xs:dateTime "2026-...", xs:base64Binary the base64 text): soap4r does not map
# leaves by the schema without wsdl2ruby's generated registry. Ruby's own Base64 (pack "m")
# turns that text into the byte String.
text = got.content
content = text.unpack1("m")  # a String of bytes (ASCII-8BIT), Ruby's byte type
report["image"] = {
  "image_id" => got.image_id, "filename" => got.filename,
  "content_as_given" => "#{text.class}/#{text.encoding}",
  "content_as_given_sha256" => Digest::SHA256.hexdigest(text),
  "content_class" => "#{content.class}/#{content.encoding}",
  "sha256" => Digest::SHA256.hexdigest(content), "size_bytes" => content.bytesize,
}

report["fault_validation"] = fault { driver.greet(:name => " ") }
report["fault_age"] = fault { driver.echoPerson(:person => { :first_name => "A", :last_name => "B", :age => 200 }) }
report["fault_zone"] = fault { driver.getTime(:timezone => "Mars/Olympus_Mons") }
report["fault_image"] = fault { driver.uploadImage(:filename => "notes.txt", :content => File.binread(text_path)) }
puts JSON.generate(report)
