package site

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// The navigation boilerplate every shop page shares, built once. Its links
// are root-relative; the links a page owns (products, the next page) are
// relative, as on books.toscrape.com, so a crawler resolves both kinds.
var (
	headTop = []byte(`<!DOCTYPE html>
<!--[if lt IE 7]>      <html lang="en-us" class="no-js lt-ie9 lt-ie8 lt-ie7"> <![endif]-->
<!--[if IE 7]>         <html lang="en-us" class="no-js lt-ie9 lt-ie8"> <![endif]-->
<!--[if IE 8]>         <html lang="en-us" class="no-js lt-ie9"> <![endif]-->
<!--[if gt IE 8]><!--> <html lang="en-us" class="no-js"> <!--<![endif]-->
    <head>
        <title>
    `)
	headRest = []byte(` | Books to Scrape - Sandbox
</title>

        <meta http-equiv="content-type" content="text/html; charset=UTF-8" />
        <meta name="created" content="24th Jun 2016 09:29" />
        <meta name="description" content="" />
        <meta name="viewport" content="width=device-width" />
        <meta name="robots" content="NOARCHIVE,NOCACHE" />

        <!-- Le HTML5 shim, for IE6-8 support of HTML elements -->
        <!--[if lt IE 9]>
        <script src="//html5shim.googlecode.com/svn/trunk/html5.js"></script>
        <![endif]-->

            <link rel="shortcut icon" href="/static/oscar/favicon.ico" />

            <link rel="stylesheet" type="text/css" href="/static/oscar/css/styles.css" />
            <link rel="stylesheet" type="text/css" href="/static/oscar/js/bootstrap-datetimepicker/bootstrap-datetimepicker.css" />
            <link rel="stylesheet" type="text/css" href="/static/oscar/css/datetimepicker.css" />
    </head>

    <body id="default" class="default">

        <header class="header container-fluid">
            <div class="page_inner">
                <div class="row">
                    <div class="col-sm-8 h1"><a href="/index.html">Books to Scrape</a><small> We love being scraped!</small>
</div>
                </div>
            </div>
        </header>

        <div class="container-fluid page">
            <div class="page_inner">
`)
	sidebar = []byte(buildSidebar())
	footer  = []byte(`
                </div>
            </div><!-- /row -->
        </div><!-- /page_inner -->
    </div><!-- /container-fluid -->

    <footer class="footer container-fluid">
        <div class="page_inner">
            <ul class="footer_links">
                <li><a href="/about.html">About us</a></li>
                <li><a href="/contact.html">Contact</a></li>
                <li><a href="/help/delivery.html">Delivery</a></li>
                <li><a href="/help/returns.html">Returns</a></li>
                <li><a href="/legal/privacy.html">Privacy</a></li>
                <li><a href="/legal/terms.html">Terms and conditions</a></li>
                <li><a href="https://twitter.example/bookstoscrape" rel="external">Twitter</a></li>
            </ul>
            <p class="copyright">This is a demo website for web scraping purposes.</p>
        </div>
    </footer>

        <!-- jQuery -->
        <script src="http://ajax.googleapis.example/ajax/libs/jquery/1.9.1/jquery.min.js"></script>
        <script>window.jQuery || document.write('<script src="/static/oscar/js/jquery/jquery-1.9.1.min.js"><\/script>')</script>

        <!-- Twitter Bootstrap -->
        <script type="text/javascript" src="/static/oscar/js/bootstrap3/bootstrap.min.js"></script>
        <!-- Oscar -->
        <script src="/static/oscar/js/oscar/ui.js" type="text/javascript" charset="utf-8"></script>

        <script src="/static/oscar/js/bootstrap-datetimepicker/bootstrap-datetimepicker.js" type="text/javascript" charset="utf-8"></script>
        <script src="/static/oscar/js/bootstrap-datetimepicker/locales/bootstrap-datetimepicker.all.js" type="text/javascript" charset="utf-8"></script>

        <script type="text/javascript">
            $(function() {
                oscar.init();
                oscar.search.init();
            });
        </script>

        <!-- Version: N/A -->
    </body>
</html>
`)
)

var categories = strings.Split("Travel,Mystery,Historical Fiction,Sequential Art,Classics,Philosophy,"+
	"Romance,Womens Fiction,Fiction,Childrens,Religion,Nonfiction,Music,Default,Science Fiction,"+
	"Sports and Games,Add a comment,Fantasy,New Adult,Young Adult,Science,Poetry,Paranormal,Art,"+
	"Psychology,Autobiography,Parenting,Adult Fiction,Humor,Horror,History,Food and Drink,"+
	"Christian Fiction,Business,Biography,Thriller,Contemporary,Spirituality,Academic,Self Help,"+
	"Historical,Christian,Suspense,Short Stories,Novels,Health,Politics,Cultural,Erotica,Crime", ",")

func categoryPath(i int) string {
	return fmt.Sprintf("/catalogue/category/books/%s_%d/index.html", slug(categories[i]), i+2)
}

func buildSidebar() string {
	var b strings.Builder
	b.WriteString(`
            <div class="row">

                <aside class="sidebar col-sm-4 col-md-3">

                    <div id="promotions_left">

                    </div>

    <div class="side_categories">
        <ul class="nav nav-list">

                <li>
                    <a href="/catalogue/category/books_1/index.html">

                            Books

                    </a>

                    <ul>
`)
	for i, c := range categories {
		fmt.Fprintf(&b, `
            <li>
                <a href="%s">
                    %s
                </a>
            </li>
`, categoryPath(i), c)
	}
	b.WriteString(`
                </ul></li>

        </ul>
    </div>

                </aside>

                <div class="col-sm-8 col-md-9">
`)
	return b.String()
}

var words = strings.Fields(`the a light in attic tipping velvet soumission sharp objects sapiens
brief history humankind requiem red dirty little secrets coming woman dream
boys house black mirror wave shadow river garden winter summer night city
secret life last first lost found kingdom stars sea glass silent voices
bright fire stone heart empire iron crown queen king hunter wild road home`)

var lorem = strings.Fields(`lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod
tempor incididunt ut labore et dolore magna aliqua enim ad minim veniam quis
nostrud exercitation ullamco laboris nisi aliquip ex ea commodo consequat duis
aute irure reprehenderit voluptate velit esse cillum fugiat nulla pariatur
excepteur sint occaecat cupidatat non proident sunt culpa qui officia deserunt
mollit anim id est laborum`)

var ratings = [...]string{"One", "Two", "Three", "Four", "Five"}

// product is the data of one product page, drawn from a generator seeded
// by its number, so the same number is always the same product.
type product struct {
	n        int
	title    string
	pence    int // price
	rating   string
	stock    int
	upc      string
	category int
	desc     string
	image    string
}

func newProduct(n int) product {
	r := productRand(n)
	title := productTitle(r)
	var d []string
	for range 150 + r.IntN(60) {
		d = append(d, lorem[r.IntN(len(lorem))])
	}
	return product{
		n:        n,
		title:    title,
		pence:    1000 + r.IntN(5000),
		rating:   ratings[r.IntN(len(ratings))],
		stock:    1 + r.IntN(22),
		upc:      fmt.Sprintf("%016x", r.Uint64()),
		category: r.IntN(len(categories)),
		desc:     strings.Join(d, " "),
		image:    fmt.Sprintf("%032x", r.Uint64()),
	}
}

func productRand(n int) *rand.Rand { return rand.New(rand.NewPCG(uint64(n), 0x5eed)) }

// productTitle draws a title: the first draws of a product's generator.
func productTitle(r *rand.Rand) string {
	var t []string
	for range 2 + r.IntN(5) {
		w := words[r.IntN(len(words))]
		t = append(t, strings.ToUpper(w[:1])+w[1:])
	}
	return strings.Join(t, " ")
}

func (p product) price() string { return fmt.Sprintf("£%d.%02d", p.pence/100, p.pence%100) }

// slug is the URL form of a title: "A Light in the Attic" is
// "a-light-in-the-attic".
func slug(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), "-")
}

func listingPath(i int) string          { return "/catalogue/page-" + strconv.Itoa(i) + ".html" }
func productDir(n int, t string) string { return slug(t) + "_" + strconv.Itoa(n) }
func productPath(n int, t string) string {
	return "/catalogue/" + productDir(n, t) + "/index.html"
}

// shopPage assembles a page from the shared boilerplate and its own title,
// breadcrumb and content, which share one allocation.
func shopPage(title, crumbs, content string) *page {
	own := []byte(title + crumbs + content)
	t, c := len(title), len(title)+len(crumbs)
	p := newPage(headTop, own[:t], headRest, own[t:c], sidebar, own[c:], footer)
	p.own = len(own)
	return p
}

func listingPage(o Options, i int) *page {
	var b strings.Builder
	first := (i-1)*o.PerPage + 1
	last := min(i*o.PerPage, o.Products)
	fmt.Fprintf(&b, `
    <div class="page-header action">
        <h1>All products</h1>
    </div>

    <div id="messages">

    </div>

    <div id="promotions">

    </div>

    <form method="get" class="form-horizontal">

        <div style="display:none">

        </div>

                <strong>%d</strong> results - showing <strong>%d</strong> to <strong>%d</strong>.

    </form>

    <section>
        <div class="alert alert-warning" role="alert"><strong>Warning!</strong> This is a demo website for web scraping purposes. Prices and ratings here were randomly assigned and have no real meaning.</div>

        <div>
            <ol class="row">
`, o.Products, first, last)
	for n := first; n <= last; n++ {
		p := newProduct(n)
		dir := productDir(n, p.title)
		short := p.title
		if len(short) > 20 {
			short = short[:17] + "..."
		}
		fmt.Fprintf(&b, `
                <li class="col-xs-6 col-sm-4 col-md-3 col-lg-3">
    <article class="product_pod">

            <div class="image_container">

                    <a href="%s/index.html"><img src="../media/cache/%s/%s/%s.jpg" alt="%s" class="thumbnail"></a>

            </div>

                <p class="star-rating %s">
                    <i class="icon-star"></i>
                    <i class="icon-star"></i>
                    <i class="icon-star"></i>
                    <i class="icon-star"></i>
                    <i class="icon-star"></i>
                </p>

            <h3><a href="%s/index.html" title="%s">%s</a></h3>

            <div class="product_price">

        <p class="price_color">%s</p>

<p class="instock availability">
    <i class="icon-ok"></i>

        In stock

</p>

    <form>
        <button type="submit" class="btn btn-primary btn-block" data-loading-text="Adding...">Add to basket</button>
    </form>

            </div>

    </article>

</li>
`, dir, p.image[:2], p.image[2:4], p.image, p.title, p.rating, dir, p.title, short, p.price())
	}
	b.WriteString(`
            </ol>

                <div>
                    <ul class="pager">
`)
	if i > 1 {
		fmt.Fprintf(&b, "                        <li class=\"previous\"><a href=\"page-%d.html\">previous</a></li>\n", i-1)
	}
	fmt.Fprintf(&b, "                        <li class=\"current\">\n            Page %d of %d\n                        </li>\n", i, o.Listings())
	if i < o.Listings() {
		fmt.Fprintf(&b, "                        <li class=\"next\"><a href=\"page-%d.html\">next</a></li>\n", i+1)
	}
	b.WriteString(`                    </ul>
                </div>
        </div>
    </section>
`)
	crumbs := `
    <ul class="breadcrumb">
        <li>
            <a href="/index.html">Home</a>
        </li>
        <li class="active">All products</li>
    </ul>
`
	return shopPage("All products", crumbs, b.String())
}

func productPage(p product) *page {
	cat := categories[p.category]
	crumbs := fmt.Sprintf(`
<ul class="breadcrumb">
    <li>
        <a href="/index.html">Home</a>
    </li>
    <li>
        <a href="/catalogue/category/books_1/index.html">Books</a>
    </li>
    <li>
        <a href="%s">%s</a>
    </li>
    <li class="active">%s</li>
</ul>
`, categoryPath(p.category), cat, p.title)
	avail := fmt.Sprintf("In stock (%d available)", p.stock)
	content := fmt.Sprintf(`
<article class="product_page"><!-- Start of product page -->

    <div class="row">

        <div class="col-sm-6">
            <div id="product_gallery" class="carousel">
                <div class="thumbnail">
                    <div class="carousel-inner">
                        <div class="item active">
                            <img src="../../media/cache/%s/%s/%s.jpg" alt="%s" />
                        </div>
                    </div>
                </div>
            </div>
        </div>

        <div class="col-sm-6 product_main">
            <h1>%s</h1>

<p class="price_color">%s</p>

<p class="instock availability">
    <i class="icon-ok"></i>

        %s

</p>

    <p class="star-rating %s">
        <i class="icon-star"></i>
        <i class="icon-star"></i>
        <i class="icon-star"></i>
        <i class="icon-star"></i>
        <i class="icon-star"></i>

        &nbsp;
    </p>

            <hr/>

<div class="alert alert-warning" role="alert"><strong>Warning!</strong> This is a demo website for web scraping purposes. Prices and ratings here were randomly assigned and have no real meaning.</div>

        </div><!-- /col-sm-6 -->
    </div><!-- /row -->

    <div id="product_description" class="sub-header">
        <h2>Product Description</h2>
    </div>
    <p>%s</p>

    <div class="sub-header">
        <h2>Product Information</h2>
    </div>

    <table class="table table-striped">

        <tr>
            <th>UPC</th><td>%s</td>
        </tr>

        <tr>
            <th>Product Type</th><td>Books</td>
        </tr>

        <tr>
            <th>Price (excl. tax)</th><td>%s</td>
        </tr>

        <tr>
            <th>Price (incl. tax)</th><td>%s</td>
        </tr>

        <tr>
            <th>Tax</th><td>£0.00</td>
        </tr>

        <tr>
            <th>Availability</th>
            <td>%s</td>
        </tr>

        <tr>
            <th>Number of reviews</th>
            <td>0</td>
        </tr>

    </table>

    <div id="reviews" class="sub-header">
        <h2>Customer Reviews</h2>
        <p>No reviews yet.</p>
    </div>

</article><!-- End of product page -->
`, p.image[:2], p.image[2:4], p.image, p.title, p.title, p.price(), avail, p.rating, p.desc, p.upc, p.price(), p.price(), avail)
	return shopPage(p.title, crumbs, content)
}

// chainPage is page i of the chain: some text and, unless it is the last,
// one link, to the next page.
func chainPage(i int, next bool) []byte {
	r := rand.New(rand.NewPCG(uint64(i), 0xc4a1))
	var d []string
	for range 250 {
		d = append(d, lorem[r.IntN(len(lorem))])
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<title>Chain page %d</title>\n<meta charset=\"utf-8\">\n</head>\n<body>\n<h1>Chain page %d</h1>\n<p>%s</p>\n<ul class=\"pager\">\n", i, i, strings.Join(d, " "))
	if next {
		fmt.Fprintf(&b, "<li class=\"next\"><a href=\"page-%d.html\">next</a></li>\n", i+1)
	}
	b.WriteString("</ul>\n</body>\n</html>\n")
	return []byte(b.String())
}

// widePage appends page n of the wide tree to dst: links to its Fanout
// children, n*Fanout+1 to n*Fanout+Fanout, marked up as product summaries
// so the shop's spider follows them.
func widePage(dst []byte, n int64) []byte {
	dst = append(dst, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<title>Wide page "...)
	dst = strconv.AppendInt(dst, n, 10)
	dst = append(dst, "</title>\n<meta charset=\"utf-8\">\n</head>\n<body>\n<ol class=\"row\">\n"...)
	for k := n*Fanout + 1; k <= n*Fanout+Fanout; k++ {
		dst = append(dst, `<li><article class="product_pod"><h3><a href="`...)
		dst = strconv.AppendInt(dst, k, 10)
		dst = append(dst, `.html">Page `...)
		dst = strconv.AppendInt(dst, k, 10)
		dst = append(dst, "</a></h3></article></li>\n"...)
	}
	return append(dst, "</ol>\n</body>\n</html>\n"...)
}
