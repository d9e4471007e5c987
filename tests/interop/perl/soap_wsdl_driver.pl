# Perl SOAP::WSDL driver: the client wsdl2perl generated from the served WSDL, used as
# SOAP::WSDL's documentation shows it (examples/hello.pl, the generated class's POD).
# Usage: perl soap_wsdl_driver.pl GENERATED_LIB PNG TEXT USER PASSWORD
#
# GENERATED_LIB is where `wsdl2perl -b GENERATED_LIB <wsdl url>` (default options) wrote
# MyInterfaces/, MyElements/, MyTypes/ and MyTypemaps/. The interface class
# MyInterfaces::SoapService::SoapServiceSoap11 is built with ->new() and no options: its
# proxy is the WSDL's soap:address. Methods take the request element's fields as a hashref
# and return the response element as an object (get_GreetResult ...); a SOAP fault comes
# back as a SOAP::WSDL::SOAP::Typelib::Fault11, false in boolean context.
#
# HTTP Basic as SOAP::WSDL::Manual::Cookbook shows it ("Accessing HTTP(S) webservices with
# basic/digest authentication"): a get_basic_credentials method on the transport class,
# SOAP::Transport::HTTP::Client when SOAP::Lite is installed (it is: SOAP::WSDL then uses
# SOAP::Lite's transport), SOAP::WSDL::Transport::HTTP otherwise. LWP calls it when the
# server answers 401 with a Basic challenge, and sends the request again.
#
# Fault details: the typemap wsdl2perl generates cannot place them (see
# tests/interop/test_perl_soap_wsdl.py), so every declared fault is first read as generated
# ("faults_as_generated"), then through a second instance of the same generated class given
# the typemap plus the fault detail entries, as SOAP::WSDL::Manual::WS_I says to do (R1002,
# R2742: "Such faults can be processed by adding custom maps to the type maps"). The class
# resolver is the generated class's own constructor argument (class_resolver).
use strict;
use warnings;
use utf8;

use Digest::SHA qw(sha256_hex);
use JSON::PP;
use MIME::Base64 qw(encode_base64 decode_base64);

my ($lib, $png_path, $text_path, $user, $password) = @ARGV;
unshift @INC, $lib;
require MyInterfaces::SoapService::SoapServiceSoap11;

sub slurp {
    my ($path) = @_;
    open my $fh, '<:raw', $path or die "$path: $!";
    local $/;
    return scalar <$fh>;
}

my $soap = MyInterfaces::SoapService::SoapServiceSoap11->new();
my $transport_class = ref $soap->get_transport;
{
    no strict 'refs';    ## no critic (ProhibitNoStrict)
    no warnings 'redefine';
    *{"${transport_class}::get_basic_credentials"} = sub { return ($user, $password) };
}

sub ok_or_die {
    my ($result, $what) = @_;
    die "$what: unexpected fault: $result" if not $result;
    return $result;
}

my %report;
$report{endpoint} = $soap->get_endpoint;
$report{transport} = $transport_class;
$report{greet} = ok_or_die($soap->Greet({ name => 'Ada' }), 'Greet')->get_GreetResult->get_value;

my $described = ok_or_die($soap->DescribeRequest({}), 'DescribeRequest')->get_DescribeRequestResult;
$report{soap_version} = $described->get_soap_version->get_value;
$report{soap_action} = $described->get_soap_action->get_value;

my $t0 = ok_or_die($soap->GetTime({}), 'GetTime')->get_GetTimeResult;
$report{time_default} = { timezone => "" . $t0->get_timezone, utc => "" . $t0->get_utc };
my $t1 = ok_or_die($soap->GetTime({ timezone => 'Asia/Kolkata' }), 'GetTime zone')->get_GetTimeResult;
$report{time_zone} = { timezone => "" . $t1->get_timezone, local => "" . $t1->get_local };

my @people = (['Zoë', 'Ñúñez-李', 0], ['Ada', 'Lovelace', 150]);
$report{echo} = [
    map {
        my ($first, $last, $age) = @{$_};
        my $back = ok_or_die(
            $soap->EchoPerson({ person => { first_name => $first, last_name => $last, age => $age } }),
            'EchoPerson'
        )->get_EchoPersonResult;
        [ "" . $back->get_first_name, "" . $back->get_last_name, 0 + $back->get_age->get_value ]
    } @people
];

# SOAP::WSDL's xs:base64Binary class is a plain anySimpleType: it neither encodes nor
# decodes, so it takes and hands over the base64 text (MIME::Base64, Perl's own).
my $png = slurp($png_path);
my $probe = MyInterfaces::SoapService::SoapServiceSoap11->new();
$probe->no_dispatch(1);    # the envelope SOAP::WSDL would send for raw bytes
my $envelope = $probe->UploadImage({ filename => 'picture.png', content => $png });
$report{raw_bytes_sent_verbatim} = index($envelope, $png) >= 0 ? JSON::PP::true : JSON::PP::false;

my $r = ok_or_die(
    $soap->UploadImage({ filename => 'picture.png', content => encode_base64($png, '') }),
    'UploadImage'
)->get_UploadImageResult;
$report{upload} = {
    image_id => "" . $r->get_image_id,
    sha256 => "" . $r->get_sha256,
    size_bytes => 0 + $r->get_size_bytes->get_value,
    format => "" . $r->get_format,
    width => 0 + $r->get_width->get_value,
    height => 0 + $r->get_height->get_value,
};

my %listed;
my $token;
my $pages = 0;
PAGE: while (1) {
    my %request = (page_size => 100);
    $request{page_token} = $token if defined $token;
    my $page = ok_or_die($soap->ListImages(\%request), 'ListImages')->get_ListImagesResult;
    $pages++;
    my $receipts = $page->get_images->get_ImageReceipt;
    # one receipt comes back as the object, several as an array ref of them
    for my $each (ref $receipts eq 'ARRAY' ? @{$receipts} : grep { defined } ($receipts)) {
        next if "" . $each->get_image_id ne $report{upload}{image_id};
        %listed = (
            image_id => "" . $each->get_image_id,
            sha256 => "" . $each->get_sha256,
            size_bytes => 0 + $each->get_size_bytes->get_value,
        );
        last PAGE;
    }
    my $next = $page->get_next_page_token;
    last if not defined $next or "" . $next eq "";
    $token = "" . $next;
}
$report{listed} = \%listed;
$report{list_pages} = $pages;

my $got = ok_or_die($soap->GetImage({ image_id => $report{upload}{image_id} }), 'GetImage')
    ->get_GetImageResult;
my $text = $got->get_content->get_value;    # the element's base64 text, as given
my $content = decode_base64($text);         # a Perl byte string
$report{image} = {
    image_id => "" . $got->get_image_id,
    filename => "" . $got->get_filename,
    content_class => ref $got->get_content,
    content_as_given_sha256 => sha256_hex($text),
    sha256 => sha256_hex($content),
    size_bytes => length $content,
};

# The faults, each as the generated typemap gives it, then with the detail entries added.
my $text_file = slurp($text_path);
my %calls = (
    fault_validation => [ Greet => { name => ' ' } ],
    fault_age => [ EchoPerson => { person => { first_name => 'A', last_name => 'B', age => 200 } } ],
    fault_zone => [ GetTime => { timezone => 'Mars/Olympus_Mons' } ],
    fault_image => [ UploadImage => { filename => 'notes.txt', content => encode_base64($text_file, '') } ],
);

sub first_line { my ($s) = @_; $s = "" . ($s // ''); $s =~ s/\n.*//s; return $s }

for my $name (sort keys %calls) {
    my ($method, $body) = @{ $calls{$name} };
    my $fault = $soap->$method($body);
    die "$name: expected a fault" if $fault;
    $report{faults_as_generated}{$name} = {
        class => ref $fault,
        code => "" . $fault->get_faultcode,
        string => first_line($fault->get_faultstring),
        detail => defined $fault->get_detail ? "" . $fault->get_detail : undef,
        wire_code => ("" . $fault->get_faultstring) =~ m{<faultcode>([^<]*)</faultcode>} ? $1 : undef,
    };
}

# strict => 0 (SOAP::WSDL::Deserializer::XSD's documented switch) skips what the typemap
# cannot place: the fault's own code and string survive, its detail does not.
my $lenient = MyInterfaces::SoapService::SoapServiceSoap11->new({ deserializer_args => { strict => 0 } });
for my $name (sort keys %calls) {
    my ($method, $body) = @{ $calls{$name} };
    my $fault = $lenient->$method($body);
    die "$name: expected a fault" if $fault;
    my $detail = $fault->get_detail;
    $report{faults_lenient}{$name} = {
        class => ref $fault,
        code => "" . $fault->get_faultcode,
        string => "" . $fault->get_faultstring,
        detail_class => ref $detail,
        detail => defined $detail ? "" . $detail : undef,
    };
}

# The generated typemap plus what it lacks: 'Fault/detail' as a complex type holding the
# declared detail elements, and each detail element's generated entries under Fault/detail/.
{
    package SoapWsdlDriver::FaultDetail;    ## no critic (ProhibitMultiplePackages)
    use Class::Std::Fast::Storable constructor => 'none';
    use base qw(SOAP::WSDL::XSD::Typelib::ComplexType);
    Class::Std::initialize();
    my %validation_of : ATTR(:get<ValidationFaultDetail>);
    my %rejected_of : ATTR(:get<ImageRejectedFaultDetail>);
    my %not_found_of : ATTR(:get<NotFoundFaultDetail>);
    __PACKAGE__->_factory(
        [qw(ValidationFaultDetail ImageRejectedFaultDetail NotFoundFaultDetail)],
        {
            ValidationFaultDetail => \%validation_of,
            ImageRejectedFaultDetail => \%rejected_of,
            NotFoundFaultDetail => \%not_found_of,
        },
        {
            ValidationFaultDetail => 'MyElements::ValidationFaultDetail',
            ImageRejectedFaultDetail => 'MyElements::ImageRejectedFaultDetail',
            NotFoundFaultDetail => 'MyElements::NotFoundFaultDetail',
        },
    );
}
{
    package SoapWsdlDriver::FaultTypemap;    ## no critic (ProhibitMultiplePackages)
    my $generated = MyTypemaps::SoapService->get_typemap;
    my $details = qr{\A(?:ValidationFaultDetail|ImageRejectedFaultDetail|NotFoundFaultDetail)(?:/|\z)};
    our $typemap = {
        %{$generated},
        'Fault/detail' => 'SoapWsdlDriver::FaultDetail',
        map { ("Fault/detail/$_" => $generated->{$_}) } grep { $_ =~ $details } keys %{$generated},
    };
    sub get_class { return $typemap->{ join '/', @{ $_[1] } } }
    sub get_typemap { return $typemap }
}

my $mapped = MyInterfaces::SoapService::SoapServiceSoap11->new({ class_resolver => 'SoapWsdlDriver::FaultTypemap' });
for my $name (sort keys %calls) {
    my ($method, $body) = @{ $calls{$name} };
    my $fault = $mapped->$method($body);
    die "$name: expected a fault" if $fault;
    my $detail = $fault->get_detail;
    my %entry = (
        class => ref $fault,
        code => "" . $fault->get_faultcode,
        string => "" . $fault->get_faultstring,
        detail_class => ref $detail,
    );
    if (my $v = $detail->get_ValidationFaultDetail) {
        $entry{detail_element} = 'ValidationFaultDetail';
        $entry{detail_object} = ref $v;
        $entry{field} = "" . $v->get_field;
        $entry{reason} = "" . $v->get_reason;
    }
    elsif (my $i = $detail->get_ImageRejectedFaultDetail) {
        $entry{detail_element} = 'ImageRejectedFaultDetail';
        $entry{detail_object} = ref $i;
        $entry{reason} = "" . $i->get_reason;
        $entry{message} = "" . $i->get_message;
    }
    $report{$name} = \%entry;
}

print JSON::PP->new->utf8->canonical->encode(\%report), "\n";
